package com.ecloud.compute.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.PlatformProcess;

/**
 * /compute/containers/:id/logs and /compute/containers/:id/terminal with the JDK's WebSocket client against the
 * real jar and real busybox containers on Docker.
 */
class WebSocketStreamsIT {

    static final Duration STEP = Duration.ofSeconds(30);
    static final Pattern LOG_LINE = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z .*", Pattern.DOTALL);

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension();

    static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** Records text messages one by one and binary bytes as one growing stream, and the close. */
    static final class Recorder implements WebSocket.Listener {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            synchronized (bytes) {
                bytes.write(b, 0, b.length);
                bytes.notifyAll();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            closed.complete(code + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }

        /** Next text message containing {@code part}; fails after {@code timeout}. */
        String awaitLine(String part, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            StringBuilder seen = new StringBuilder();
            while (true) {
                long left = deadline - System.nanoTime();
                String m = left > 0 ? texts.poll(left, TimeUnit.NANOSECONDS) : null;
                if (m == null) fail("no line with " + part + " within " + timeout + "; seen: " + seen);
                seen.append(m).append('\n');
                assertTrue(LOG_LINE.matcher(m).matches(), () -> "not <RFC3339Nano> <text>: " + m);
                if (m.contains(part)) return m;
            }
        }

        /** Waits until the output after {@code from} contains {@code part}; returns the index just after it. */
        int awaitOutput(int from, String part, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (bytes) {
                while (true) {
                    String all = bytes.toString(StandardCharsets.UTF_8);
                    int at = all.indexOf(part, Math.min(from, all.length()));
                    if (at >= 0) return at + part.length();
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) fail("no " + part + " in the terminal within " + timeout + "; output: " + all.substring(Math.min(from, all.length())));
                    bytes.wait(left);
                }
            }
        }
    }

    static URI uri(String id, String stream, String query) {
        PlatformProcess p = platform.get();
        return URI.create("ws://127.0.0.1:" + p.port() + "/compute/containers/" + id + "/" + stream
                + (query == null ? "" : "?" + query));
    }

    static WebSocket connect(String token, String id, String stream, String query, Recorder r) {
        return CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + token).buildAsync(uri(id, stream, query), r)
                .orTimeout(30, TimeUnit.SECONDS).join();
    }

    /** The status of a refused handshake (101 when it was accepted), checking that refusals have a JSON body. */
    static int handshakeStatus(String token, String id, String stream, String query) {
        WebSocket.Builder b = CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (token != null) b.header("Authorization", "Bearer " + token);
        try {
            b.buildAsync(uri(id, stream, query), new Recorder()).orTimeout(30, TimeUnit.SECONDS).join().abort();
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

    static void writeToMainProcess(String id, String line, int fd) {
        Docker.run("exec", Docker.name(id), "sh", "-c", "echo " + line + " > /proc/1/fd/" + fd).orFail();
    }

    static String closeOf(Recorder r) throws Exception {
        return r.closed.get(STEP.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void logsTailThenFollowUntilStopped() throws Exception {
        PlatformProcess p = platform.get();
        String uid = p.newUser("logs");
        Api alice = p.api(p.token(uid));
        long key = Fixtures.addKey(alice, "k");
        String id = Fixtures.createBusybox(alice, "logs", key).path("id").asText();
        Fixtures.awaitRunning(alice, id);
        writeToMainProcess(id, "before-out", 1);
        writeToMainProcess(id, "before-err", 2);

        // the REST routes under the same prefix still answer (the stream filter passes them through)
        assertEquals(id, alice.get("/compute/containers/" + id).expect(200).path("id").asText());
        alice.get("/compute/containers/" + id + "/ingress").expect(200);
        // a plain GET of a stream: a JSON 400, not a REST 404 nor an HTML page
        alice.get("/compute/containers/" + id + "/logs").expectError(400);

        assertEquals(400, handshakeStatus(alice.token(), id, "logs", "tail=-1"));
        assertEquals(400, handshakeStatus(alice.token(), id, "logs", "tail=lots"));
        // a read-only token on this container may read its log, but not open its terminal
        String readOnly = p.token(uid, "compute." + uid + ".containers." + id + ":read");
        assertEquals(403, handshakeStatus(readOnly, id, "terminal", null));
        assertEquals(401, handshakeStatus(null, id, "logs", null));

        Recorder r = new Recorder();
        WebSocket ws = CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(uri(id, "logs", "tail=10&token=" + URLEncoder.encode(readOnly, StandardCharsets.UTF_8)), r)
                .orTimeout(30, TimeUnit.SECONDS).join();
        r.awaitLine("before-out", STEP);
        r.awaitLine("before-err", STEP);
        writeToMainProcess(id, "after-open", 1);
        r.awaitLine("after-open", STEP);
        assertFalse(r.closed.isDone(), () -> "closed early: " + r.closed);

        alice.post("/compute/containers/" + id + "/stop").expect(200);
        String close = closeOf(r);
        assertTrue(close.startsWith("1000"), close);
        ws.abort();

        // a stopped container's log is refused before upgrading
        assertEquals(409, handshakeStatus(alice.token(), id, "logs", null));
        assertEquals(409, handshakeStatus(alice.token(), id, "terminal", null));
        assertFalse(p.log().contains(readOnly), "a query-string token was written to the log");

        // the log survives stop and start: the tail still shows lines from before
        alice.post("/compute/containers/" + id + "/start").expect(200);
        Fixtures.awaitRunning(alice, id);
        Recorder again = new Recorder();
        WebSocket ws2 = connect(alice.token(), id, "logs", null, again);
        again.awaitLine("before-out", STEP);
        again.awaitLine("after-open", STEP);
        ws2.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        // tail=0: no history, only what comes next
        Recorder none = new Recorder();
        WebSocket ws3 = connect(alice.token(), id, "logs", "tail=0", none);
        writeToMainProcess(id, "only-new", 1);
        String first = none.texts.poll(STEP.toSeconds(), TimeUnit.SECONDS);
        assertTrue(first != null && LOG_LINE.matcher(first).matches() && first.endsWith(" only-new"), () -> "first: " + first);
        ws3.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        Fixtures.deleteAll(alice);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void anotherUsersContainerIsNotFound() throws Exception {
        PlatformProcess p = platform.get();
        Api alice = p.newUserApi("owner");
        Api bob = p.newUserApi("other");
        long key = Fixtures.addKey(alice, "k");
        String id = Fixtures.createBusybox(alice, "mine", key).path("id").asText();
        Fixtures.awaitRunning(alice, id);
        assertEquals(404, handshakeStatus(bob.token(), id, "logs", null));
        assertEquals(404, handshakeStatus(bob.token(), id, "terminal", null));
        assertEquals(404, handshakeStatus(alice.token(), "zzzzzzzz", "logs", null));
        Fixtures.deleteAll(alice);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void terminalSizeResizeExitAndNoOrphans() throws Exception {
        PlatformProcess p = platform.get();
        Api alice = p.newUserApi("term");
        long key = Fixtures.addKey(alice, "k");
        String id = Fixtures.createBusybox(alice, "term", key).path("id").asText();
        Fixtures.awaitRunning(alice, id);
        String name = Docker.name(id);
        List<String> before = processes(name);

        Recorder r = new Recorder();
        WebSocket ws = connect(alice.token(), id, "terminal", null, r);
        ws.sendBinary(ByteBuffer.wrap("stty size; echo T=$TERM\r".getBytes(StandardCharsets.UTF_8)), true).join();
        int at = r.awaitOutput(0, "24 80", STEP);
        at = r.awaitOutput(at, "T=xterm-256color", STEP);
        ws.sendText("{\"type\":\"resize\",\"cols\":120,\"rows\":40}", true).join();
        ws.sendBinary(ByteBuffer.wrap("stty size\r".getBytes(StandardCharsets.UTF_8)), true).join();
        r.awaitOutput(at, "40 120", STEP);
        assertTrue(processes(name).size() > before.size(), "a shell runs while the terminal is open");
        ws.sendBinary(ByteBuffer.wrap("exit 3\r".getBytes(StandardCharsets.UTF_8)), true).join();
        String close = closeOf(r);
        assertEquals("1000 exit 3", close);

        // a client that goes away leaves no shell behind
        Recorder second = new Recorder();
        WebSocket ws2 = connect(alice.token(), id, "terminal", null, second);
        ws2.sendBinary(ByteBuffer.wrap("sleep 1000 &\recho started\r".getBytes(StandardCharsets.UTF_8)), true).join();
        second.awaitOutput(0, "started\r\n", STEP);
        assertTrue(processes(name).size() > before.size());
        ws2.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> after = processes(name);
        while (after.size() != before.size() && System.nanoTime() < deadline) {
            Thread.sleep(250);
            after = processes(name);
        }
        assertEquals(before, after, "processes left behind by a closed terminal");
        Fixtures.deleteAll(alice);
    }

    /** The container's processes (command names), without the ps that lists them. */
    static List<String> processes(String name) {
        String out = Docker.run("exec", name, "ps", "-o", "pid,comm").orFail();
        return out.lines().skip(1).map(String::strip).filter(l -> !l.isEmpty() && !l.endsWith(" ps")).toList();
    }
}
