package com.ecloud.compute.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.Poll;

/**
 * An operator changes Felix HTTP's configuration ({@code org.apache.felix.http.cfg}) while the platform serves:
 * Jetty restarts, and the API, its JSON refusals of malformed requests included, answer as before.
 */
class HttpReconfigurationIT {

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    @Test
    void theApiServesOnAfterFelixHttpIsReconfigured() throws Exception {
        PlatformProcess p = platform.get();
        Api alice = p.newUserApi("http-reconfig");
        Fixtures.addKey(alice, "before");
        assertEquals("{\"error\":\"illegal character space=' '\"}", malformedRequestBody(p));
        long startsBefore = jettyStarts(p);

        Files.writeString(p.dataDir().resolve("etc").resolve("org.apache.felix.http.cfg"),
                "# an operator's change: Jetty restarts on it\norg.apache.felix.http.session.timeout=30\n");
        Poll.until("Jetty restarted on the new configuration", Duration.ofSeconds(60), Duration.ofMillis(250),
                () -> jettyStarts(p), starts -> starts > startsBefore);

        Poll.until("the API answering again", Duration.ofSeconds(30), Duration.ofMillis(250),
                () -> alice.get("/compute/ssh-keys"), r -> r.status() == 200);
        assertTrue(alice.get("/compute/ssh-keys").body().contains("before"));
        assertEquals(200, alice.get("/livez").status());
        assertEquals("{\"error\":\"illegal character space=' '\"}", malformedRequestBody(p),
                "Jetty's own refusals are still JSON");
        assertTrue(!p.log().contains("not of type ServerConnector"), p.logTail(40));
    }

    private static long jettyStarts(PlatformProcess p) {
        return p.log().lines().filter(l -> l.contains("Started Jetty")).count();
    }

    /** A request line with spaces in its target: refused by Jetty itself, before any servlet. */
    private static String malformedRequestBody(PlatformProcess p) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), p.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET /a b c HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            return answer.substring(answer.indexOf("\r\n\r\n") + 4).trim();
        }
    }
}
