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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import com.ecloud.compute.itest.harness.TextRecorder;
import com.ecloud.compute.itest.harness.Poll;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * /compute/containers/:id/logs and /compute/containers/:id/terminal with the JDK's WebSocket client against the
 * real jar and real busybox containers on Docker.
 */
class WebSocketStreamsIT {

    static final Duration STEP = Duration.ofSeconds(30);
    static final Pattern LOG_LINE = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z .*", Pattern.DOTALL);

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension()
            // small limits, so that the cap and the stalled client are reached quickly
            .config("com.ecloud.compute.core.internal.ws.streams.ContainerStreamsFilter",
                    Map.of("max.sockets.per.user", "4", "send.timeout.seconds", "3"));

    static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** Records text messages one by one and binary bytes as one growing stream, and the close. */
    static final class Recorder extends TextRecorder {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Recorder() {
            this(false);
        }

        /** A stalled client takes its first message and then reads nothing more. */
        Recorder(boolean stalled) {
            super(stalled);
        }

        @Override
        protected void onMessage(String message) {
            texts.add(message);
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
        String id = Fixtures.runningBusybox(alice, "logs");
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
        String id = Fixtures.runningBusybox(alice, "mine");
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
        String id = Fixtures.runningBusybox(alice, "term");
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

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void logsSurviveTheReCreationOfPutMounts() throws Exception {
        PlatformProcess p = platform.get();
        Api alice = p.newUserApi("remount");
        String id = Fixtures.runningBusybox(alice, "remount");
        String engineIdBefore = Docker.inspect(Docker.name(id), "{{.Id}}").orElseThrow();
        writeToMainProcess(id, "before-remount-out", 1);
        writeToMainProcess(id, "before-remount-err", 2);
        Recorder seen = new Recorder();
        WebSocket ws = connect(alice.token(), id, "logs", null, seen);
        seen.awaitLine("before-remount-err", STEP); // the engine has written both
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();

        JsonNode put = alice.put("/compute/containers/" + id + "/mounts", Api.obj("mount_paths", List.of("/root", "/srv")))
                .expect(200);
        assertTrue(put.path("restarted").asBoolean(), put::toString);
        Fixtures.awaitRunning(alice, id);
        String engineIdAfter = Docker.inspect(Docker.name(id), "{{.Id}}").orElseThrow();
        assertFalse(engineIdAfter.equals(engineIdBefore), "PUT mounts re-created the engine container");
        writeToMainProcess(id, "after-remount", 1);

        // tail=3 spans both engine containers, in order
        Recorder tail = new Recorder();
        WebSocket ws2 = connect(alice.token(), id, "logs", "tail=3", tail);
        assertTrue(tail.awaitLine("before-remount-out", STEP).endsWith(" before-remount-out"));
        assertTrue(tail.awaitLine("before-remount-err", STEP).endsWith(" before-remount-err"));
        String next = tail.awaitLine("after-remount", STEP);
        assertTrue(next.endsWith(" after-remount"), next);
        writeToMainProcess(id, "followed", 1);
        tail.awaitLine("followed", STEP);
        ws2.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        Fixtures.deleteAll(alice);
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void messageSizeLimitSocketCapAndAStalledLogClient() throws Exception {
        PlatformProcess p = platform.get();
        String uid = p.newUser("limits");
        Api alice = p.api(p.token(uid));
        String id = Fixtures.runningBusybox(alice, "limits");

        // incoming messages up to 64 KiB are taken (a log socket ignores them); one byte more closes it with 1009
        Recorder sized = new Recorder();
        WebSocket l = connect(alice.token(), id, "logs", "tail=0", sized);
        l.sendText("a".repeat(64 * 1024), true).join();
        l.sendBinary(ByteBuffer.wrap(new byte[64 * 1024]), true).join();
        writeToMainProcess(id, "still-open", 1);
        sized.awaitLine("still-open", STEP);
        l.sendBinary(ByteBuffer.wrap(new byte[64 * 1024 + 1]), true);
        assertTrue(closeOf(sized).startsWith("1009"), () -> "close: " + sized.closed);
        Recorder term = new Recorder();
        WebSocket t = connect(alice.token(), id, "terminal", null, term);
        t.sendText("{\"type\":\"resize\",\"cols\":80,\"rows\":24,\"pad\":\"" + "y".repeat(70_000) + "\"}", true);
        assertTrue(closeOf(term).startsWith("1009"), () -> "close: " + term.closed);

        // the cap: 4 sockets per user here; the fifth is refused before upgrading, and a freed slot is reusable
        List<WebSocket> open = new ArrayList<>();
        List<Recorder> recorders = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Recorder r = new Recorder();
            recorders.add(r);
            open.add(connect(alice.token(), id, "logs", "tail=0", r));
        }
        assertEquals(429, handshakeStatus(alice.token(), id, "logs", null));
        assertEquals(429, handshakeStatus(alice.token(), id, "terminal", null));
        Api bob = p.newUserApi("limits-other");
        String bobs = Fixtures.runningBusybox(bob, "other");
        assertEquals(101, handshakeStatus(bob.token(), bobs, "logs", null), "the cap is per user");
        open.remove(0).sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        recorders.remove(0);
        Poll.until("a freed slot", Duration.ofSeconds(20), () -> handshakeStatus(alice.token(), id, "logs", "tail=0"),
                status -> status == 101);

        // a client that stops reading is closed as too slow; the others on the same log keep getting lines
        Recorder stalled = new Recorder(true);
        open.forEach(WebSocket::abort);
        open.clear();
        recorders.clear();
        WebSocket s = connect(alice.token(), id, "logs", "tail=0", stalled);
        Recorder reader = new Recorder();
        WebSocket r = connect(alice.token(), id, "logs", "tail=0", reader);
        Docker.run("exec", Docker.name(id), "sh", "-c",
                // about 20 MB: more than the socket buffers of both ends hold
                "z=$(printf '%1000s' | tr ' ' z); i=0; while [ $i -lt 20000 ]; do echo flood-$i-$z; i=$((i+1)); done"
                        + " > /proc/1/fd/1")
                .orFail();
        writeToMainProcess(id, "after-flood", 1);
        reader.awaitLine("after-flood", Duration.ofSeconds(120));
        Poll.until("the stalled client closed as too slow", Duration.ofSeconds(60),
                () -> p.log().contains("closing the logs socket of " + uid + " on " + id + ": too slow"), x -> x);
        assertFalse(reader.closed.isDone(), () -> "the reading client was closed too: " + reader.closed);
        r.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        s.abort();
        Fixtures.deleteAll(alice);
        Fixtures.deleteAll(bob);
    }

    /** The container's processes (command names), without the ps that lists them. */
    static List<String> processes(String name) {
        String out = Docker.run("exec", name, "ps", "-o", "pid,comm").orFail();
        return out.lines().skip(1).map(String::strip).filter(l -> !l.isEmpty() && !l.endsWith(" ps")).toList();
    }
}
