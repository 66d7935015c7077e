package com.ecloud.compute.itest;

import static com.ecloud.compute.itest.harness.Api.obj;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Command;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.OpenSsh;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.Poll;
import com.ecloud.compute.itest.harness.TestHosts;

/**
 * The ingress gateway with real containers serving HTTP (BusyBox httpd), driven by curl and the JDK's HTTP and
 * WebSocket clients: routing by host and port, two containers on one port, rule deletion, a stopped container,
 * HTTPS trusting the generated CA, the API and its WebSocket through the gateway, forwarded headers, and a
 * request-smuggling attempt.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IngressIT {

    static final Duration STEP = Duration.ofSeconds(60);
    /** A rule port of 8000-8999 that is free at the gateway's offset in this run. */
    static int rulePort;

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    static Api owner;
    static String a;
    static String b;
    static int offset;

    @BeforeAll
    static void setUp() {
        OpenSsh.requireTools("curl");
        offset = platform.get().gatewayOffset();
        rulePort = freeRulePort();
        owner = platform.get().newUserApi("ingress");
        a = Fixtures.runningBusybox(owner, "web-a");
        b = Fixtures.runningBusybox(owner, "web-b");
        serve(a, "A");
        serve(b, "B");
        TestHosts.addLoopback(host(a));
        TestHosts.addLoopback(host(b));
    }

    /** BusyBox httpd on 8080 in the container: index.html says {@code text}, /cgi-bin/env prints the request's variables. */
    static void serve(String id, String text) {
        Docker.execOk(Docker.name(id), "sh", "-c", "mkdir -p /www/cgi-bin && echo " + text + " > /www/index.html"
                + " && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\nenv\\n' > /www/cgi-bin/env"
                + " && chmod +x /www/cgi-bin/env && httpd -p 8080 -h /www");
    }

    static String host(String id) {
        return id + ".compute.localhost";
    }

    static int freeRulePort() {
        for (int port = 8000; port <= 8999; port++) {
            if (free(port + offset) && free(port + 1 + offset)) return port;
        }
        throw new AssertionError("no free rule ports at offset " + offset);
    }

    static boolean free(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void addRule(String id, int port, int target) {
        owner.post("/compute/containers/" + id + "/ingress", obj("port", port, "target_port", target)).expect(201);
    }

    record Http(int status, String body, int exitCode, String stderr) {
    }

    /** curl http(s)://<host>:<external port + offset><path> resolved to 127.0.0.1, with {@code extra} options. */
    static Http curl(String scheme, String host, int externalPort, String path, String... extra) {
        int hostPort = externalPort + offset;
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}",
                "--resolve", host + ":" + hostPort + ":127.0.0.1"));
        cmd.addAll(List.of(extra));
        cmd.add(scheme + "://" + host + ":" + hostPort + path);
        Command.Result r = Command.run(Duration.ofSeconds(60), cmd);
        String out = r.stdout();
        int cut = out.lastIndexOf('\n');
        int status = cut < 0 ? 0 : Integer.parseInt(out.substring(cut + 1).trim());
        return new Http(status, cut < 0 ? out : out.substring(0, cut), r.exitCode(), r.stderr());
    }

    static Http get(String host, int externalPort) {
        return curl("http", host, externalPort, "/");
    }

    // ---- routing ----------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void routesByHostAndPort() {
        addRule(a, 80, 8080);
        addRule(a, rulePort, 8080);
        Http viaHttp = get(host(a), 80);
        assertEquals(200, viaHttp.status(), viaHttp::toString);
        assertEquals("A\n", viaHttp.body());
        // a port of 8000-8999 listens as soon as a rule uses it
        Http viaRulePort = get(host(a), rulePort);
        assertEquals(200, viaRulePort.status(), viaRulePort::toString);
        assertEquals("A\n", viaRulePort.body());
        // b has no rule yet; nothing is there at all for other names
        Http noRule = get(host(b), 80);
        assertEquals(404, noRule.status(), noRule::toString);
        assertTrue(noRule.body().contains("no container " + b), noRule.body());
        Http noHost = curl("http", "example.com", 80, "/");
        assertEquals(404, noHost.status(), noHost::toString);
        assertTrue(noHost.body().contains("no such host"), noHost.body());
    }

    @Test
    @Order(2)
    void twoContainersShareAnExternalPort() {
        int shared = rulePort + 1;
        addRule(a, shared, 8080);
        addRule(b, shared, 8080);
        assertEquals("A\n", get(host(a), shared).body());
        assertEquals("B\n", get(host(b), shared).body());
        // a port with a rule of another container only
        Http otherPort = get(host(b), rulePort);
        assertEquals(404, otherPort.status(), otherPort::toString);
        assertTrue(otherPort.body().contains("no ingress rule for port " + rulePort), otherPort.body());
    }

    @Test
    @Order(3)
    void forwardedHeadersReachTheContainer() {
        Http env = curl("http", host(a), 80, "/cgi-bin/env");
        assertEquals(200, env.status(), env::toString);
        assertTrue(env.body().contains("HTTP_X_FORWARDED_FOR=127.0.0.1"), env.body());
        assertTrue(env.body().contains("HTTP_X_FORWARDED_PROTO=http"), env.body());
        assertTrue(env.body().contains("HTTP_X_FORWARDED_HOST=" + host(a)), env.body());
    }

    @Test
    @Order(4)
    void deletingARuleStopsRouting() {
        int shared = rulePort + 1;
        owner.delete("/compute/containers/" + a + "/ingress/" + shared).expect(200);
        Http gone = get(host(a), shared);
        assertEquals(404, gone.status(), gone::toString);
        assertTrue(gone.body().contains("no ingress rule for port " + shared), gone.body());
        assertEquals("B\n", get(host(b), shared).body(), "b's rule on the same port stays");
        owner.delete("/compute/containers/" + b + "/ingress/" + shared).expect(200);
        // no rule uses the port any more: its listener is closed
        Http closed = get(host(b), shared);
        assertEquals(0, closed.status(), closed::toString);
        assertNotEquals(0, closed.exitCode(), "curl must fail to connect: " + closed);
    }

    @Test
    @Order(5)
    void aStoppedContainerAnswers503AndRoutesAgainOnceStarted() {
        addRule(b, 80, 8080);
        assertEquals("B\n", get(host(b), 80).body());
        owner.post("/compute/containers/" + b + "/stop").expect(200);
        Fixtures.awaitStatus(owner, b, "stopped", STEP);
        Http stopped = Poll.until("503 from a stopped container", STEP, Duration.ofMillis(200), () -> get(host(b), 80),
                h -> h.status() == 503);
        assertTrue(stopped.body().contains("stopped"), stopped.body());
        owner.post("/compute/containers/" + b + "/start").expect(200);
        Fixtures.awaitRunning(owner, b);
        serve(b, "B2");
        Http again = Poll.until("b routed after its restart", STEP, Duration.ofMillis(200), () -> get(host(b), 80),
                h -> h.status() == 200);
        assertEquals("B2\n", again.body());
    }

    // ---- HTTPS ------------------------------------------------------------------------------------------

    @Test
    @Order(10)
    void httpsWithTheGeneratedCa() {
        addRule(a, 443, 8080);
        assertTrue(Fixtures.get(owner, a).path("https_enabled").asBoolean(), "a rule on 443 sets https_enabled");
        Path ca = platform.get().dataDir().resolve("secrets").resolve("gateway").resolve("ca.pem");
        Http trusted = curl("https", host(a), 443, "/cgi-bin/env", "--cacert", ca.toString());
        assertEquals(200, trusted.status(), trusted::toString);
        assertTrue(trusted.body().contains("HTTP_X_FORWARDED_PROTO=https"), trusted.body());
        // without the CA, curl refuses the certificate (exit 60)
        Http untrusted = curl("https", host(a), 443, "/");
        assertEquals(60, untrusted.exitCode(), untrusted::toString);
    }

    // ---- the API through the gateway ----------------------------------------------------------------------

    @Test
    @Order(20)
    void theApiIsServedAtComputeDomain() {
        Http list = curl("http", "compute.localhost", 80, "/compute/containers", "-H", "Authorization: Bearer " + owner.token());
        assertEquals(200, list.status(), list::toString);
        assertTrue(list.body().contains(a) && list.body().contains(b), list.body());
    }

    @Test
    @Order(21)
    void aWebSocketPassesThroughTheGateway() throws Exception {
        CompletableFuture<String> first = new CompletableFuture<>();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create("ws://compute.localhost:" + (80 + offset) + "/compute/ws?token=" + owner.token()),
                        new WebSocket.Listener() {
                            private final StringBuilder text = new StringBuilder();

                            @Override
                            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                                text.append(data);
                                if (last) first.complete(text.toString());
                                webSocket.request(1);
                                return null;
                            }
                        })
                .get(30, TimeUnit.SECONDS);
        try {
            // the socket's first message: the caller's containers
            String message = first.get(30, TimeUnit.SECONDS);
            assertTrue(message.contains("\"type\":\"containers\"") && message.contains(a) && message.contains(b), message);
        } finally {
            ws.abort();
        }
    }

    // ---- refusals -----------------------------------------------------------------------------------------

    @Test
    @Order(30)
    void aSmugglingAttemptIsRefused() throws IOException {
        // Content-Length and Transfer-Encoding together: a front end and a back end could disagree on where
        // the request ends, and the "GET /admin" would become a request of its own
        String attack = "POST / HTTP/1.1\r\nHost: " + host(a) + "\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: " + host(a) + "\r\n\r\n";
        String answer = exchange(attack);
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        assertEquals(1, count(answer, "HTTP/1.1 "), "one answer, then the connection is closed: " + answer);
    }

    static String exchange(String request) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), 80 + offset)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) got.write(buffer, 0, n);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the gateway kept the connection open after: " + got.toString(StandardCharsets.ISO_8859_1));
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }
}
