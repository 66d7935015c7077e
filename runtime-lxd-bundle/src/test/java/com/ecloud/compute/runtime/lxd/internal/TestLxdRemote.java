package com.ecloud.compute.runtime.lxd.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * This machine's LXD reached as a remote server: over HTTPS on {@value #URL} (scripts/lxd-host.sh sets
 * core.https_address), with a client certificate made here by openssl and added to LXD's trust store over the unix
 * socket, and LXD's own certificate pinned.
 */
final class TestLxdRemote {

    static final String URL = "https://127.0.0.1:8443";

    /** The files of one client identity, and the certificate's fingerprint in LXD's trust store (null: untrusted). */
    record Identity(Path certificate, Path key, Path serverCertificate, String trustedFingerprint) {
    }

    private TestLxdRemote() {
    }

    /** A fresh EC client certificate in {@code directory}; trusted by LXD when {@code trust}. */
    static Identity identity(LxdClient local, Path directory, String name, boolean trust) throws Exception {
        Files.createDirectories(directory);
        Path certificate = directory.resolve(name + ".crt");
        Path key = directory.resolve(name + ".key");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=ecloud-" + name,
                "-keyout", key.toString(), "-out", certificate.toString()).redirectErrorStream(true).start();
        String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!openssl.waitFor(60, TimeUnit.SECONDS) || openssl.exitValue() != 0) {
            throw new IOException("openssl failed: " + output);
        }
        Path server = directory.resolve("server.crt");
        JsonNode info = local.get("/1.0");
        String serverPem = info.path("environment").path("certificate").asText("");
        if (serverPem.isEmpty()) throw new IOException("LXD named no server certificate in GET /1.0");
        Files.writeString(server, serverPem);
        String https = info.path("config").path("core.https_address").asText("");
        if (https.isEmpty()) throw new IOException("LXD does not listen on HTTPS (scripts/lxd-host.sh sets core.https_address)");

        if (!trust) return new Identity(certificate, key, server, null);
        X509Certificate x509 = LxdTls.certificates(certificate).get(0);
        local.call("POST", "/1.0/certificates", Map.of("type", "client", "name", "ecloud-test-" + name,
                "certificate", Base64.getEncoder().encodeToString(x509.getEncoded())));
        return new Identity(certificate, key, server, fingerprint(x509));
    }

    static String fingerprint(X509Certificate certificate) throws GeneralSecurityException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    }

    /** Takes the identity out of LXD's trust store. */
    static void untrust(LxdClient local, Identity identity) {
        if (identity == null || identity.trustedFingerprint() == null) return;
        try {
            local.call("DELETE", "/1.0/certificates/" + identity.trustedFingerprint(), null);
        } catch (RuntimeException e) {
            System.err.println("removing test certificate: " + e);
        }
    }

    static LxdRuntime.Config config(String hostName, Identity identity) {
        return TestLxd.config(hostName, "/nonexistent/unix.socket", URL, identity.certificate().toString(),
                identity.key().toString(), identity.serverCertificate().toString());
    }
}
