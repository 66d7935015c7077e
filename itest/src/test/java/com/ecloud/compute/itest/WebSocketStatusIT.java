package com.ecloud.compute.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;
import com.ecloud.compute.itest.harness.TextRecorder;
import com.fasterxml.jackson.databind.JsonNode;

/** /compute/ws with the JDK's WebSocket client against the real jar and real containers on Docker. */
class WebSocketStatusIT {

    static final String STATUS_PID = "com.ecloud.compute.core.internal.ws.StatusStreamServlet";
    static final int MAX_SOCKETS = 4;
    static final Duration STEP = Duration.ofSeconds(60);

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension()
            .config(STATUS_PID, Map.of("max.sockets.per.user", String.valueOf(MAX_SOCKETS),
                    "ping.interval.seconds", "1", "pong.timeout.seconds", "3"))
            .config("com.ecloud.compute.websocket", Map.of("allowed.origins", "https://dash.example.com, http://localhost:8080"));

    /** A text-message recorder that asks for one message at a time, or stops asking (a stalled client). */
    static final class Recorder extends TextRecorder {
        final LinkedBlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
        final List<JsonNode> seen = new ArrayList<>();

        Recorder(boolean stall) {
            super(stall);
        }

        @Override
        protected void onMessage(String message) {
            try {
                messages.add(Api.JSON.readTree(message));
            } catch (Exception e) {
                closed.completeExceptionally(e);
            }
        }

        /** Next message matching {@code wanted} within {@code timeout}; every message taken is kept in {@link #seen}. */
        JsonNode await(String what, Duration timeout, Predicate<JsonNode> wanted) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                JsonNode m = left > 0 ? messages.poll(left, TimeUnit.NANOSECONDS) : null;
                if (m == null) fail("no " + what + " within " + timeout + "; seen: " + seen);
                seen.add(m);
                if (wanted.test(m)) return m;
            }
        }

        JsonNode awaitStatus(String id, String status) throws InterruptedException {
            return await(id + " " + status, STEP, m -> m.path("type").asText().equals("container_status")
                    && m.path("data").path("container_id").asText().equals(id)
                    && m.path("data").path("status").asText().equals(status));
        }
    }

    static URI wsUri(String query) {
        PlatformProcess p = platform.get();
        return URI.create("ws://127.0.0.1:" + p.port() + "/compute/ws" + (query == null ? "" : "?" + query));
    }

    static final HttpClient CLIENT = HttpClient.newHttpClient();

    static WebSocket connect(String token, Recorder r) {
        return CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).buildAsync(wsUri(null), r).orTimeout(20, TimeUnit.SECONDS).join();
    }

    static int handshakeStatus(WebSocket.Builder builder, String query) {
        try {
            builder.connectTimeout(Duration.ofSeconds(10)).buildAsync(wsUri(query), new Recorder(false))
                    .orTimeout(20, TimeUnit.SECONDS).join().abort();
            return 101;
        } catch (CompletionException e) {
            WebSocketHandshakeException h = assertInstanceOf(WebSocketHandshakeException.class, e.getCause(), e::toString);
            assertEquals("application/json", h.getResponse().headers().firstValue("content-type").orElse("")
                    .replaceAll(";.*", ""));
            String body = String.valueOf(h.getResponse().body());
            assertTrue(body.contains("\"error\""), body);
            return h.getResponse().statusCode();
        }
    }

    static Set<String> ids(JsonNode containersMessage) {
        assertEquals("containers", containersMessage.path("type").asText(), containersMessage::toString);
        Set<String> ids = new HashSet<>();
        containersMessage.path("data").forEach(c -> {
            assertTrue(c.has("id") && c.has("name") && c.has("status"), c::toString);
            ids.add(c.path("id").asText());
        });
        return ids;
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void listThenLiveStatusOfOnlyTheCallersContainers() throws Exception {
        Api alice = platform.get().newUserApi("ws-alice");
        Api bob = platform.get().newUserApi("ws-bob");
        long aliceKey = Fixtures.addKey(alice, "k");
        long bobKey = Fixtures.addKey(bob, "k");
        String bobsFirst = Fixtures.createBusybox(bob, "bob-first", bobKey).path("id").asText();
        String alicesFirst = Fixtures.createBusybox(alice, "alice-first", aliceKey).path("id").asText();
        Fixtures.awaitRunning(alice, alicesFirst);

        Recorder aliceWs = new Recorder(false);
        WebSocket a = connect(alice.token(), aliceWs);
        Recorder bobWs = new Recorder(false);
        WebSocket b = connect(bob.token(), bobWs);

        JsonNode first = aliceWs.await("initial list", Duration.ofSeconds(10), m -> true);
        assertEquals(Set.of(alicesFirst), ids(first), "alice's list holds only her containers");
        assertEquals(Set.of(bobsFirst), ids(bobWs.await("initial list", Duration.ofSeconds(10), m -> true)));

        // API-driven: create -> pending, initializing, running, in that order
        String id = Fixtures.createBusybox(alice, "alice-second", aliceKey).path("id").asText();
        JsonNode pending = aliceWs.awaitStatus(id, "pending");
        assertTrue(pending.path("data").has("external_ip") && pending.path("data").path("external_ip").isNull(),
                () -> "no external_ip until running: " + pending);
        aliceWs.awaitStatus(id, "initializing");
        JsonNode running = aliceWs.awaitStatus(id, "running");
        assertEquals("127.0.0.1", running.path("data").path("external_ip").asText(), "the default external address");

        // runtime-driven: killed behind the platform's back
        Docker.run("kill", Docker.name(id)).orFail();
        JsonNode stopped = aliceWs.awaitStatus(id, "stopped");
        assertTrue(stopped.path("data").has("external_ip") && stopped.path("data").path("external_ip").isNull(),
                stopped::toString);

        // bob saw none of it; his own changes still reach him
        bob.delete("/compute/containers/" + bobsFirst).expect(200);
        String bobsSecond = Fixtures.createBusybox(bob, "bob-second", bobKey).path("id").asText();
        bobWs.awaitStatus(bobsSecond, "pending");
        for (JsonNode m : bobWs.seen) {
            String cid = m.path("data").path("container_id").asText();
            assertFalse(cid.equals(id) || cid.equals(alicesFirst), () -> "bob received alice's change: " + m);
        }
        for (JsonNode m : aliceWs.seen) {
            assertFalse(m.path("data").path("container_id").asText().equals(bobsSecond), () -> "alice got bob's: " + m);
        }
        a.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        b.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        Fixtures.deleteAll(alice);
        Fixtures.deleteAll(bob);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void refusedBeforeUpgradeWithoutAValidToken() {
        PlatformProcess p = platform.get();
        String uid = p.newUser("ws-refused");
        assertEquals(401, handshakeStatus(CLIENT.newWebSocketBuilder(), null), "no token");
        assertEquals(401, handshakeStatus(CLIENT.newWebSocketBuilder().header("Authorization", "Bearer a.b.c"), null));
        assertEquals(401, handshakeStatus(CLIENT.newWebSocketBuilder(), "token=garbage"));
        String keysOnly = p.token(uid, "compute." + uid + ".keys:read");
        assertEquals(403, handshakeStatus(CLIENT.newWebSocketBuilder().header("Authorization", "Bearer " + keysOnly), null));
        String writeOnly = p.token(uid, "compute." + uid + ":update");
        assertEquals(403, handshakeStatus(CLIENT.newWebSocketBuilder(), "token=" + writeOnly));
        // a plain GET (no upgrade) with a good token: a JSON 400, not an HTML page
        p.api(p.token(uid)).get("/compute/ws").expectError(400);
        p.anonymous().get("/compute/ws").expectError(401);
        assertFalse(p.log().contains(writeOnly), "a query-string token was written to the log");
        assertFalse(p.log().contains("garbage"), "a query-string token was written to the log");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void pagesOfOriginsNotListedAreRefusedBeforeTheToken() {
        PlatformProcess p = platform.get();
        String token = p.token(p.newUser("ws-origin"));
        String query = "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8);
        assertEquals(101, handshakeStatus(CLIENT.newWebSocketBuilder().header("Origin", "https://dash.example.com"), query));
        assertEquals(101, handshakeStatus(CLIENT.newWebSocketBuilder().header("Origin", "http://localhost:8080"), query));
        assertEquals(101, handshakeStatus(CLIENT.newWebSocketBuilder(), query), "clients without Origin are not browsers");
        assertEquals(403, handshakeStatus(CLIENT.newWebSocketBuilder().header("Origin", "https://evil.example"), query));
        assertEquals(403, handshakeStatus(CLIENT.newWebSocketBuilder().header("Origin", "http://localhost:8081"), null));
        // the log and terminal sockets share the list
        WebSocketHandshakeException refused = assertInstanceOf(WebSocketHandshakeException.class, assertThrows(
                CompletionException.class, () -> CLIENT.newWebSocketBuilder().header("Origin", "https://evil.example")
                        .buildAsync(URI.create("ws://127.0.0.1:" + p.port() + "/compute/containers/zzzzzzzz/logs?" + query),
                                new Recorder(false)).orTimeout(20, TimeUnit.SECONDS).join()).getCause());
        assertEquals(403, refused.getResponse().statusCode());
        assertTrue(String.valueOf(refused.getResponse().body()).contains("origin https://evil.example"),
                () -> String.valueOf(refused.getResponse().body()));
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void tokenInTheQueryString() throws Exception {
        Api carol = platform.get().newUserApi("ws-query");
        Recorder r = new Recorder(false);
        WebSocket ws = CLIENT.newWebSocketBuilder()
                .buildAsync(wsUri("token=" + URLEncoder.encode(carol.token(), StandardCharsets.UTF_8)), r)
                .orTimeout(20, TimeUnit.SECONDS).join();
        assertEquals(Set.of(), ids(r.await("initial list", Duration.ofSeconds(10), m -> true)));
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        assertFalse(platform.get().log().contains(carol.token()), "a query-string token was written to the log");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void incomingMessagesOver64KiBCloseTheSocket() throws Exception {
        Api erin = platform.get().newUserApi("ws-size");
        for (boolean binary : new boolean[] {false, true}) {
            Recorder r = new Recorder(false);
            WebSocket ws = connect(erin.token(), r);
            r.await("initial list", Duration.ofSeconds(10), m -> true);
            // 64 KiB is taken (and ignored: the socket takes no input) ...
            if (binary) ws.sendBinary(java.nio.ByteBuffer.wrap(new byte[64 * 1024]), true).join();
            else ws.sendText("a".repeat(64 * 1024), true).join();
            // ... one byte more closes it with 1009
            if (binary) ws.sendBinary(java.nio.ByteBuffer.wrap(new byte[64 * 1024 + 1]), true);
            else ws.sendText("a".repeat(64 * 1024 + 1), true);
            String close = r.closed.get(30, TimeUnit.SECONDS);
            assertTrue(close.startsWith("1009 "), close);
            ws.abort();
        }
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void capOfSocketsPerUser() throws Exception {
        Api dave = platform.get().newUserApi("ws-cap");
        List<WebSocket> open = new ArrayList<>();
        for (int i = 0; i < MAX_SOCKETS; i++) {
            Recorder r = new Recorder(false);
            open.add(connect(dave.token(), r));
            r.await("initial list", Duration.ofSeconds(10), m -> true);
        }
        assertEquals(429, handshakeStatus(CLIENT.newWebSocketBuilder().header("Authorization", "Bearer " + dave.token()), null));
        // another user is not affected
        Api erin = platform.get().newUserApi("ws-cap-other");
        Recorder other = new Recorder(false);
        connect(erin.token(), other).abort();
        // a closed socket gives its slot back
        open.remove(0).sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int status;
        do {
            Thread.sleep(200);
            status = handshakeStatus(CLIENT.newWebSocketBuilder().header("Authorization", "Bearer " + dave.token()), null);
        } while (status != 101 && System.nanoTime() < deadline);
        assertEquals(101, status, "the slot of a closed socket was not given back");
        open.forEach(WebSocket::abort);
    }

    /**
     * Two subscribers that stop reading (a JDK client that never requests another message, and a raw socket that
     * never reads at all) are closed with 1008 "too slow" (they answer no ping), while a third subscriber of the same
     * user keeps receiving every change without delay.
     */
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void stalledSubscribersAreClosedWithoutDelayingOthers() throws Exception {
        PlatformProcess p = platform.get();
        String uid = p.newUser("ws-stall");
        Api frank = p.api(p.token(uid));
        long key = Fixtures.addKey(frank, "k");
        Recorder stalled = new Recorder(true);
        WebSocket stalledWs = connect(frank.token(), stalled);
        try (Socket raw = rawSubscriber(frank.token())) {
            Recorder live = new Recorder(false);
            WebSocket liveWs = connect(frank.token(), live);
            live.await("initial list", Duration.ofSeconds(10), m -> true);
            String id = Fixtures.createBusybox(frank, "stall", key).path("id").asText();
            live.awaitStatus(id, "pending");
            live.awaitStatus(id, "running");
            Docker.run("kill", Docker.name(id)).orFail();
            live.awaitStatus(id, "stopped");

            // both stalled sockets were closed by the server (the platform says so in its log)
            String closing = "closing a status socket of " + uid + ": too slow";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (countOf(p.log(), closing) < 2 && System.nanoTime() < deadline) Thread.sleep(250);
            assertEquals(2, countOf(p.log(), closing), "both stalled subscribers closed");

            // the live one still receives
            frank.post("/compute/containers/" + id + "/start").expect(200);
            live.awaitStatus(id, "running");
            assertFalse(live.closed.isDone(), () -> "the live subscriber was closed: " + live.closed);

            // the raw socket, read at last, ends with the server's close frame: 1008
            assertEquals(1008, closeCodeOf(raw));
            // the stalled JDK client got only its first message; read again, it ends (the JDK reports either the
            // close frame, or "closed output" when the pongs it owes for the pings before it can no longer be sent)
            assertEquals(1, stalled.messages.size(), () -> "stalled client: " + stalled.messages);
            stalledWs.request(Long.MAX_VALUE);
            try {
                String close = stalled.closed.get(20, TimeUnit.SECONDS);
                assertTrue(close.startsWith("1008 too slow"), close);
            } catch (java.util.concurrent.ExecutionException e) {
                assertInstanceOf(java.io.IOException.class, e.getCause(), e::toString);
            }
            liveWs.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        } finally {
            stalledWs.abort();
            Fixtures.deleteAll(frank);
        }
    }

    static int countOf(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }

    /** Reads the server's (unmasked) frames until its close frame; returns the close code. */
    static int closeCodeOf(Socket s) throws Exception {
        java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
        while (true) {
            int b0 = in.readUnsignedByte();
            int b1 = in.readUnsignedByte();
            long len = b1 & 0x7f;
            if (len == 126) len = in.readUnsignedShort();
            else if (len == 127) len = in.readLong();
            byte[] payload = new byte[(int) len];
            in.readFully(payload);
            if ((b0 & 0x0f) == 0x8) return len >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
        }
    }

    /** A handshake by hand on a socket with a tiny receive buffer, never read after the 101. */
    static Socket rawSubscriber(String token) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(1024);
        s.connect(new InetSocketAddress("127.0.0.1", platform.get().port()), 5000);
        s.setSoTimeout(10_000);
        String key = Base64.getEncoder().encodeToString("ecloud-stalled-1".getBytes(StandardCharsets.US_ASCII));
        OutputStream out = s.getOutputStream();
        out.write(("GET /compute/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer " + token
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) break;
            head.append((char) c);
        }
        assertTrue(head.toString().startsWith("HTTP/1.1 101"), head::toString);
        assertNotNull(s);
        return s;
    }
}
