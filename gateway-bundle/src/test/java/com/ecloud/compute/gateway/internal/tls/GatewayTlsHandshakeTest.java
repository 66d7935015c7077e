package com.ecloud.compute.gateway.internal.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SniHandler;

/** Real handshakes against a Netty server whose first handler comes from tlsHandlers(), as in ProxyServer. */
class GatewayTlsHandshakeTest {

    private static final String DOMAIN = "example.test";

    @TempDir
    Path directory;

    private GatewayCertificates certificates;
    private TlsTestServer server;

    @BeforeEach
    void startServer() throws Exception {
        certificates = GatewayCertificates.loadOrCreate(directory, DOMAIN, null, null);
        server = new TlsTestServer(certificates.tlsHandlers());
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    @Test
    void clientTrustingOnlyTheCaConnectsToAContainerNameAndTheServerRecordsIt() throws Exception {
        X509Certificate ca = GatewayCertificatesTest.readCertificates(certificates.caFile()).get(0);

        // Twice: every connection needs handlers of its own from the factory. A fresh client context each time,
        // because the JDK client resumes a cached session with that session's SNI name.
        for (String name : List.of("abc.compute.example.test", "compute.example.test")) {
            try (SSLSocket socket = connect(trustingOnly(ca), name, "h2", "http/1.1")) {
                socket.startHandshake();

                assertEquals("TLSv1.3", socket.getSession().getProtocol());
                assertEquals("http/1.1", socket.getApplicationProtocol(), "ALPN offers http/1.1 only");
                assertEquals(certificates.chain()[0], socket.getSession().getPeerCertificates()[0]);
                assertEquals(Optional.of(name), server.awaitServerName());
                assertEquals("ping", echo(socket, "ping"));
            }
        }
    }

    @Test
    void tls12HandshakeSucceeds() throws Exception {
        SSLContext trustingCa = trustingOnly(certificates.chain()[1]);
        try (SSLSocket socket = connect(trustingCa, "abc.compute.example.test", "http/1.1")) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.startHandshake();

            assertEquals("TLSv1.2", socket.getSession().getProtocol());
            assertEquals(Optional.of("abc.compute.example.test"), server.awaitServerName());
        }
    }

    @Test
    void clientWithoutSniIsServedAndNoNameIsRecorded() throws Exception {
        SSLContext trustingCa = trustingOnly(certificates.chain()[1]);
        try (SSLSocket socket = (SSLSocket) trustingCa.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(List.of()); // no SNI; IP literals never carry one either
            socket.setSSLParameters(parameters);
            socket.startHandshake();

            assertEquals(Optional.empty(), server.awaitServerName());
            assertEquals("pong", echo(socket, "pong"));
        }
    }

    @Test
    void clientNotTrustingTheCaFailsTheHandshake() throws Exception {
        SSLContext jdkDefaultTrust = SSLContext.getInstance("TLS");
        jdkDefaultTrust.init(null, null, null); // the JDK's cacerts: our local CA is not in it
        try (SSLSocket socket = connect(jdkDefaultTrust, "abc.compute.example.test", "http/1.1")) {
            assertThrows(SSLHandshakeException.class, socket::startHandshake);
        }

        SSLContext trustingAnotherCa = trustingOnly(
                GatewayCertificates.loadOrCreate(directory.resolve("other"), DOMAIN, null, null).chain()[1]);
        try (SSLSocket socket = connect(trustingAnotherCa, "abc.compute.example.test", "http/1.1")) {
            assertThrows(SSLHandshakeException.class, socket::startHandshake);
        }
    }

    @Test
    void namesOutsideTheWildcardFailHostnameVerification() throws Exception {
        SSLContext trustingCa = trustingOnly(certificates.chain()[1]);
        // Another domain, and two labels below compute (a wildcard covers exactly one).
        for (String name : List.of("abc.compute.other.test", "a.b.compute.example.test")) {
            try (SSLSocket socket = connect(trustingCa, name, "http/1.1")) {
                assertThrows(SSLHandshakeException.class, socket::startHandshake, name);
            }
        }
    }

    @Test
    void onlyTls12And13AreEnabledAndEveryConnectionGetsItsOwnHandler() {
        SSLEngine engine = certificates.sslContext().newEngine(ByteBufAllocator.DEFAULT);
        assertEquals(Set.of("TLSv1.2", "TLSv1.3"), Set.of(engine.getEnabledProtocols()));
        assertFalse(engine.getUseClientMode());

        Object first = certificates.tlsHandlers().get();
        Object second = certificates.tlsHandlers().get();
        assertTrue(first instanceof SniHandler, "the proxy learns the SNI name from an SniHandler");
        assertNotSame(first, second);
    }

    @Test
    void opensslSClientVerifiesTheChainAndHostname() throws Exception {
        String name = "x.compute.example.test";
        String output = ExternalTool.succeed(directory, "openssl", "s_client", "-connect",
                "127.0.0.1:" + server.port(), "-servername", name, "-CAfile", "ca.pem", "-verify_return_error",
                "-verify_hostname", name, "-alpn", "http/1.1");

        assertTrue(output.contains("Verify return code: 0 (ok)"), output);
        assertTrue(output.contains("ALPN protocol: http/1.1"), output);
        assertEquals(Optional.of(name), server.awaitServerName());
    }

    @Test
    void opensslSClientWithAnotherCaFailsVerification() throws Exception {
        Path otherCa = GatewayCertificates.loadOrCreate(directory.resolve("other"), DOMAIN, null, null).caFile();

        ExternalTool.Result result = ExternalTool.run(directory, "openssl", "s_client", "-connect",
                "127.0.0.1:" + server.port(), "-servername", "x.compute.example.test", "-CAfile", otherCa.toString(),
                "-verify_return_error");

        assertNotEquals(0, result.exitCode(), result.output());
        assertFalse(result.output().contains("Verify return code: 0 (ok)"), result.output());
    }

    @Test
    void curlFetchesOverHttpsTrustingTheCa() throws Exception {
        String host = "abc.compute.example.test";
        String output = ExternalTool.succeed(directory, "curl", "--silent", "--show-error", "--max-time", "20",
                "--cacert", "ca.pem", "--resolve", host + ":" + server.port() + ":127.0.0.1",
                "--write-out", "|%{http_code}|%{ssl_verify_result}", "https://" + host + ":" + server.port() + "/");

        assertEquals("ok\n|200|0", output);
        assertEquals(Optional.of(host), server.awaitServerName());
    }

    @Test
    void configuredRsaCertificateServesTls() throws Exception {
        Path operatorFiles = Files.createDirectory(directory.resolve("operator"));
        ExternalTool.succeed(operatorFiles, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", "key.pem", "-out", "cert.pem", "-days", "30", "-subj", "/CN=compute.example.test",
                "-addext", "subjectAltName=DNS:*.compute.example.test,DNS:compute.example.test");
        GatewayCertificates configured = GatewayCertificates.loadOrCreate(directory.resolve("unused"), DOMAIN,
                operatorFiles.resolve("cert.pem").toString(), operatorFiles.resolve("key.pem").toString());
        X509Certificate operatorCertificate =
                GatewayCertificatesTest.readCertificates(operatorFiles.resolve("cert.pem")).get(0);

        try (TlsTestServer rsaServer = new TlsTestServer(configured.tlsHandlers());
                SSLSocket socket = connect(trustingOnly(operatorCertificate), "abc.compute.example.test",
                        rsaServer.port(), "http/1.1")) {
            socket.startHandshake();

            assertArrayEquals(new Object[] {operatorCertificate}, socket.getSession().getPeerCertificates());
            assertEquals("ping", echo(socket, "ping"));
        }
    }

    // --- helpers

    private static SSLContext trustingOnly(X509Certificate anchor) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("anchor", anchor);
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    private SSLSocket connect(SSLContext context, String serverName, String... alpn) throws Exception {
        return connect(context, serverName, server.port(), alpn);
    }

    /** A client that sends serverName as SNI and checks the certificate against it, as browsers do. */
    private static SSLSocket connect(SSLContext context, String serverName, int port, String... alpn)
            throws Exception {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        parameters.setApplicationProtocols(alpn);
        socket.setSSLParameters(parameters);
        return socket;
    }

    private static String echo(SSLSocket socket, String text) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] answer = in.readNBytes(text.length());
        return new String(answer, StandardCharsets.US_ASCII);
    }
}
