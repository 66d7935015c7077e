package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TLS terminated by the handler the listener was given: SNI must match Host; the backend learns https. */
class ProxyTlsTest {
    private TestBackend backend;
    private ProxyServer server;
    private ProxyServer.Listener listener;
    private SelfSignedCertificate certificate;
    private final List<String> resolved = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        backend = new TestBackend();
        certificate = new SelfSignedCertificate("compute.example");
        SslContext context = SslContextBuilder.forServer(certificate.certificate(), certificate.privateKey())
                .sslProvider(SslProvider.JDK).build();
        server = new ProxyServer(ProxySettings.defaults(), (host, port, tls) -> {
            resolved.add(host + " " + port + " " + tls);
            return backend.route();
        }, 2);
        listener = server.listen("127.0.0.1", 0, 443, () -> new SniHandler(name -> context));
    }

    @AfterEach
    void stop() {
        server.close();
        backend.close();
        certificate.delete();
    }

    private RawClient connect(String serverName) throws Exception {
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        SSLSocket socket = (SSLSocket) trustAll.getSocketFactory().createSocket("127.0.0.1", listener.hostPort());
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setServerNames(List.of(new SNIHostName(serverName)));
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return new RawClient(socket);
    }

    @Test
    void matchingServerNameIsForwardedAsHttps() throws Exception {
        try (RawClient client = connect("abc.compute.example")) {
            client.send("GET /headers HTTP/1.1\r\nHost: ABC.compute.example:443\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(200, response.status());
            assertTrue(response.text().contains("x-forwarded-proto: https\n"), response.text());
            assertTrue(response.text().contains("x-forwarded-port: 443\n"), response.text());
            client.send("GET /second HTTP/1.1\r\nHost: abc.compute.example\r\n\r\n");
            assertEquals("/second", client.read().text());
        }
        assertEquals("abc.compute.example 443 true", resolved.get(0));
    }

    @Test
    void hostOtherThanTheServerNameIs421() throws Exception {
        try (RawClient client = connect("abc.compute.example")) {
            client.send("GET / HTTP/1.1\r\nHost: other.compute.example\r\n\r\n");
            RawClient.Response response = client.read();
            assertEquals(421, response.status());
            assertEquals("host does not match the TLS server name\n", response.text());
            assertEquals("close", response.header("connection"));
        }
        assertEquals(0, backend.requests.get());
    }
}
