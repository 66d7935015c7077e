package com.ecloud.compute.bench;

import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static com.ecloud.compute.bench.Figures.fmt2;
import static com.ecloud.compute.bench.Figures.pair;
import static com.ecloud.compute.bench.Figures.printQuantiles;
import static com.ecloud.compute.bench.Figures.ratio;

/**
 * The WebSocket benchmark, against a platform that bench/streams.sh started on a temporary data directory:
 *
 * <ol>
 * <li>status event latency: a running BusyBox container is stopped ({@code t=0}) and started through the raw
 * Engine API, behind the platform's back, so that each change is a runtime event; for each change, from the
 * engine's event ({@code timeNano}) to its receipt by a direct subscriber of the engine's event stream, and to the
 * receipt of the matching {@code container_status} on {@code /compute/ws}.</li>
 * <li>keystroke echo: single bytes typed into {@code /compute/containers/:id/terminal}, each after the echo of
 * the previous one, against the same loop on a {@code docker exec} with a TTY (same shell command) hijacked
 * straight from the engine's unix socket; interleaved in blocks.</li>
 * </ol>
 *
 * All waits are bounded; the container is deleted at the end (streams.sh removes whatever an interrupted run left).
 */
public final class StreamsBench {

    private static final PrintStream OUT = System.out;
    /** How long a WS message or an engine event may take before it counts as missing. */
    private static final Duration EVENT_WAIT = Duration.ofSeconds(10);
    private static final Duration ECHO_WAIT = Duration.ofSeconds(5);
    /** Keystrokes per block (then the line is cleared, well before the 80 columns wrap) and per warm-up. */
    private static final int BLOCK = 40;
    private static final int WARMUP_KEYS = 10;
    private static final byte CTRL_U = 0x15;
    /**
     * The shell the platform's terminal runs: the API's ExecSpec.LOGIN_SHELL (the user's login
     * shell from /etc/passwd, /bin/sh otherwise, in $HOME), so that both sides type into the same program.
     */
    private static final String LOGIN_SHELL = "u=$(id -un 2>/dev/null || echo root); "
            + "s=$(grep \"^$u:\" /etc/passwd 2>/dev/null | cut -d: -f7); [ -x \"$s\" ] || s=/bin/sh; "
            + "cd \"${HOME:-/}\" 2>/dev/null; exec \"$s\" -l";

    /** Bytes from a terminal, with when they arrived (System.nanoTime). */
    record Chunk(byte[] data, long nanos) {
        boolean contains(byte b) {
            for (byte d : data) if (d == b) return true;
            return false;
        }
    }

    /** Something received, with when it arrived (epoch ns, comparable with the engine's timeNano). */
    record Received<T>(T value, long epochNanos) {
    }

    /** One measured status change. */
    record Change(String expected, long eventNanos, long directNanos, long wsNanos) {
        double directMs() {
            return (directNanos - eventNanos) / 1e6;
        }

        double platformMs() {
            return (wsNanos - eventNanos) / 1e6;
        }

        double addedMs() {
            return (wsNanos - directNanos) / 1e6;
        }
    }

    private final Options options;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "watchdog");
        t.setDaemon(true);
        return t;
    });
    private final DockerEngine engine;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String api;
    private final String token;

    private StreamsBench(Options options) {
        this.options = options;
        this.api = options.require("api");
        this.token = options.require("token");
        this.engine = new DockerEngine(Path.of(options.get("docker-socket", "/var/run/docker.sock")), watchdog,
                Duration.ofSeconds(60));
    }

    public static void main(String[] args) throws Exception {
        int status = new StreamsBench(Options.parse(args)).run();
        System.exit(status);
    }

    private int run() throws Exception {
        String loadAtStart = Bench.loadAverage();
        OUT.printf("ecloud compute WebSocket benchmark, %s%n", Instant.now());
        OUT.printf("host: %d CPUs, load average at start %s; Docker Engine API %s over %s%n",
                Runtime.getRuntime().availableProcessors(), loadAtStart, DockerEngine.VERSION,
                options.get("docker-socket", "/var/run/docker.sock"));
        OUT.printf("platform: %s (its own data directory, started by streams.sh)%n%n", api);

        PlatformApi user = new PlatformApi(http, api, token);
        String publicKey = Files.readString(Path.of(options.require("ssh-public-key")), StandardCharsets.UTF_8).trim();
        long key = user.sshKey(publicKey);
        user.deleteAll();
        String id = user.createRunningBusybox(key, "streams");
        String name = "ecloud-" + id;
        OUT.printf("container %s (engine %s): ecloud/busybox:latest on tiny, running%n%n", id, name);
        StatusResult status;
        EchoResult echo;
        try {
            status = statusLatency(user, id, name);
            echo = keystrokeEcho(id, name);
        } finally {
            user.delete("/compute/containers/" + id).expect(200, 404);
            watchdog.shutdownNow();
        }
        printSummary(status, echo, loadAtStart);
        return status.missing() > 0 ? 2 : 0;
    }

    // ---- 1. status event latency ----------------------------------------------------------------------------

    record StatusResult(List<Change> changes, int missing, int unexpected) {
    }

    private StatusResult statusLatency(PlatformApi user, String id, String name) throws Exception {
        int wanted = Math.min(200, Math.max(2, options.intOption("changes", 100)));
        long maxNanos = TimeUnit.SECONDS.toNanos(Math.min(120, options.intOption("max-seconds", 120)));
        OUT.printf("== 1. status event latency: %d changes (stop t=0 / start through the raw Engine API, behind the"
                + " platform's back), at most %d s%n", wanted, TimeUnit.NANOSECONDS.toSeconds(maxNanos));
        OUT.println("   engine direct: the event's timeNano -> this benchmark's own subscriber of GET /events receives it");
        OUT.println("   platform:      the event's timeNano -> /compute/ws delivers the matching container_status");
        OUT.println("   (stop: engine 'die' -> status stopped; start: engine 'start' -> status running; the next change"
                + " only after both arrived)");

        BlockingQueue<Received<Map<String, Object>>> engineEvents = new LinkedBlockingQueue<>();
        BlockingQueue<Received<Map<String, Object>>> wsStatuses = new LinkedBlockingQueue<>();
        CountDownLatch listed = new CountDownLatch(1);
        List<Change> changes = new ArrayList<>();
        List<Double> inspectMs = new ArrayList<>();
        int missing = 0;
        int unexpected = 0;
        WebSocket ws = null;
        try (Closeable stream = engine.events(e -> {
            long now = Bench.epochNanos();
            Object action = e.get("Action") != null ? e.get("Action") : e.get("status");
            if (name.equals(Json.at(e, "Actor", "Attributes", "name"))
                    && ("die".equals(action) || "start".equals(action))) {
                engineEvents.add(new Received<>(e, now));
            }
        })) {
            ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(wsBase() + "/compute/ws?token=" + token), new TextListener(text -> {
                        long now = Bench.epochNanos();
                        Map<String, Object> m = Json.object(text);
                        if ("containers".equals(m.get("type"))) listed.countDown();
                        if ("container_status".equals(m.get("type")) && id.equals(Json.at(m, "data", "container_id"))) {
                            wsStatuses.add(new Received<>(m, now));
                        }
                    })).get(15, TimeUnit.SECONDS);
            if (!listed.await(10, TimeUnit.SECONDS)) throw new IOException("/compute/ws sent no container list");
            Thread.sleep(500); // the engine subscription is up (it has no acknowledgement of its own)

            long start = System.nanoTime();
            for (int i = 0; i < wanted && System.nanoTime() - start < maxNanos; i++) {
                boolean stop = i % 2 == 0;
                String action = stop ? "die" : "start";
                String expected = stop ? "stopped" : "running";
                engineEvents.clear();
                wsStatuses.clear();
                engine.post("/containers/" + name + (stop ? "/stop?t=0" : "/start"), null).expect(204, 304);
                Received<Map<String, Object>> event = awaitEvent(engineEvents, action);
                if (event == null) {
                    OUT.printf("change %d (%s): the engine's event stream delivered no '%s' within %d s%n", i + 1,
                            expected, action, EVENT_WAIT.toSeconds());
                    unexpected++;
                    continue;
                }
                // when the engine answers an inspect sent as soon as the event arrived: the platform inspects once
                // per event before it publishes, and the engine answers only once it has finished handling the
                // change (after a 'die': releasing the network and mounts), so this is the floor of the platform
                engine.get("/containers/" + name + "/json").expect(200);
                long inspected = Bench.epochNanos();
                Received<Map<String, Object>> message = awaitStatus(wsStatuses, expected);
                if (message == null) {
                    missing++;
                    OUT.printf("change %d (%s): NO container_status '%s' on /compute/ws within %d s of the engine's"
                            + " '%s' (API says %s)%n", i + 1, expected, expected, EVENT_WAIT.toSeconds(), action,
                            user.get("/compute/containers/" + id).json().get("status"));
                    continue;
                }
                long timeNano = ((Number) event.value().get("timeNano")).longValue();
                changes.add(new Change(expected, timeNano, event.epochNanos(), message.epochNanos()));
                inspectMs.add((inspected - timeNano) / 1e6);
                Thread.sleep(20 + (i * 7) % 30); // a few ms apart, not in phase with anything
            }
            // the terminal needs it running
            if (!"running".equals(user.get("/compute/containers/" + id).json().get("status"))) {
                engine.post("/containers/" + name + "/start", null).expect(204, 304);
                awaitStatus(wsStatuses, "running");
            }
        } finally {
            if (ws != null) ws.abort();
        }

        List<Double> direct = changes.stream().map(Change::directMs).toList();
        List<Double> platform = changes.stream().map(Change::platformMs).toList();
        List<Double> added = changes.stream().map(Change::addedMs).toList();
        OUT.printf("changes measured: %d (%d stopped, %d running); missing WS messages: %d; missing engine events: %d%n",
                changes.size(), changes.stream().filter(c -> c.expected().equals("stopped")).count(),
                changes.stream().filter(c -> c.expected().equals("running")).count(), missing, unexpected);
        printQuantiles("engine direct (timeNano -> direct receipt)", direct);
        printQuantiles("platform (timeNano -> WS receipt)", platform);
        printQuantiles("platform's added delay (WS - direct receipt)", added);
        for (String kind : List.of("stopped", "running")) {
            printQuantiles("  platform, " + kind + " only",
                    changes.stream().filter(c -> c.expected().equals(kind)).map(Change::platformMs).toList());
        }
        printQuantiles("engine inspect sent on receipt, answered", inspectMs);
        for (String kind : List.of("stopped", "running")) {
            List<Double> k = new ArrayList<>();
            for (int i = 0; i < changes.size(); i++) if (changes.get(i).expected().equals(kind)) k.add(inspectMs.get(i));
            printQuantiles("  inspect answered, " + kind + " only", k);
        }
        OUT.printf("ratio platform/direct: p50 %s, p99 %s%n", ratio(Stats.median(platform), Stats.median(direct)),
                ratio(Stats.percentile(platform, 0.99), Stats.percentile(direct, 0.99)));
        OUT.printf("goal: p99 < 50 ms (runtime event -> WS message): %s (p99 %s ms)%n",
                Bench.met(Stats.percentile(platform, 0.99) < 50), fmt2(Stats.percentile(platform, 0.99)));
        if (missing > 0) OUT.printf("BUG: %d status change(s) never reached /compute/ws%n", missing);
        OUT.println();
        return new StatusResult(changes, missing, unexpected);
    }

    private static Received<Map<String, Object>> awaitEvent(BlockingQueue<Received<Map<String, Object>>> q,
            String action) throws InterruptedException {
        long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            Received<Map<String, Object>> r = q.poll(left, TimeUnit.NANOSECONDS);
            if (r == null) return null;
            Object a = r.value().get("Action") != null ? r.value().get("Action") : r.value().get("status");
            if (action.equals(a)) return r;
        }
        return null;
    }

    private static Received<Map<String, Object>> awaitStatus(BlockingQueue<Received<Map<String, Object>>> q,
            String status) throws InterruptedException {
        long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            Received<Map<String, Object>> r = q.poll(left, TimeUnit.NANOSECONDS);
            if (r == null) return null;
            if (status.equals(Json.at(r.value(), "data", "status"))) return r;
            OUT.printf("   (unexpected container_status while waiting for %s: %s)%n", status, Json.at(r.value(), "data"));
        }
        return null;
    }

    /** Whole text messages (JDK WebSocket may hand them over in parts) to a consumer; reads one at a time. */
    private static final class TextListener implements WebSocket.Listener {
        private final java.util.function.Consumer<String> onMessage;
        private final StringBuilder parts = new StringBuilder();

        TextListener(java.util.function.Consumer<String> onMessage) {
            this.onMessage = onMessage;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            parts.append(data);
            if (last) {
                String text = parts.toString();
                parts.setLength(0);
                onMessage.accept(text);
            }
            webSocket.request(1);
            return null;
        }
    }

    // ---- 2. keystroke echo ----------------------------------------------------------------------------------

    /** A terminal being typed into: its output arrives in {@link #output()}. */
    private interface Terminal extends Closeable {
        void send(byte[] bytes) throws IOException;

        BlockingQueue<Chunk> output();

        /** Waits (bounded) until the shell has exited and the connection closed. */
        boolean awaitClosed(Duration wait) throws InterruptedException;
    }

    /** {@code /compute/containers/:id/terminal} through the JDK WebSocket client. */
    /** Output chunks as they arrive, and the end of the session. */
    private abstract static class RecordedTerminal implements Terminal {
        protected final BlockingQueue<Chunk> output = new LinkedBlockingQueue<>();
        protected final CountDownLatch closed = new CountDownLatch(1);

        @Override
        public BlockingQueue<Chunk> output() {
            return output;
        }

        @Override
        public boolean awaitClosed(Duration wait) throws InterruptedException {
            return closed.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private final class PlatformTerminal extends RecordedTerminal {
        private final WebSocket ws;
        volatile String closeReason;

        PlatformTerminal(String id) throws Exception {
            ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(wsBase() + "/compute/containers/" + id + "/terminal?token=" + token),
                            new WebSocket.Listener() {
                                @Override
                                public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                                    long now = System.nanoTime();
                                    byte[] bytes = new byte[data.remaining()];
                                    data.get(bytes);
                                    output.add(new Chunk(bytes, now));
                                    w.request(1);
                                    return null;
                                }

                                @Override
                                public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
                                    closeReason = code + " " + reason;
                                    closed.countDown();
                                    return null;
                                }

                                @Override
                                public void onError(WebSocket w, Throwable error) {
                                    closeReason = "error: " + error;
                                    closed.countDown();
                                }
                            }).get(15, TimeUnit.SECONDS);
        }

        @Override
        public void send(byte[] bytes) {
            ws.sendBinary(ByteBuffer.wrap(bytes), true).join();
        }

        @Override
        public void close() {
            ws.abort();
        }
    }

    /** {@code docker exec -it} straight from the engine: exec create, then start hijacked over the unix socket. */
    private final class EngineTerminal extends RecordedTerminal {
        private final SocketChannel channel;

        EngineTerminal(String name) throws IOException {
            String create = "{\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":true,"
                    + "\"Env\":[\"TERM=xterm-256color\"],\"Cmd\":[\"/bin/sh\",\"-c\"," + Json.quote(LOGIN_SHELL) + "]}";
            String execId = (String) engine.post("/containers/" + name + "/exec", create).expect(201).json().get("Id");
            channel = engine.upgrade("/exec/" + execId + "/start", "{\"Detach\":false,\"Tty\":true}");
            Thread reader = new Thread(() -> {
                ByteBuffer buffer = ByteBuffer.allocate(8192);
                try {
                    while (channel.read(buffer.clear()) > 0) {
                        long now = System.nanoTime();
                        byte[] bytes = new byte[buffer.flip().remaining()];
                        buffer.get(bytes);
                        output.add(new Chunk(bytes, now));
                    }
                } catch (IOException e) {
                    // closed
                } finally {
                    closed.countDown();
                }
            }, "engine-terminal");
            reader.setDaemon(true);
            reader.start();
            // the platform's PTY size
            engine.post("/exec/" + execId + "/resize?h=24&w=80", null).expect(200, 201);
        }

        @Override
        public void send(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) channel.write(b);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    record EchoResult(List<Double> platform, List<Double> direct, int lost) {
    }

    private EchoResult keystrokeEcho(String id, String name) throws Exception {
        int keystrokes = Math.max(BLOCK, Math.min(2000, options.intOption("keystrokes", 200)));
        int gapMs = Math.max(0, Math.min(100, options.intOption("keystroke-gap-ms", 3)));
        OUT.printf("== 2. keystroke echo: %d single bytes each way, the next %d ms after the echo of the previous;"
                + " in blocks of %d, interleaved, after %d warm-up keystrokes each%n", keystrokes, gapMs, BLOCK,
                WARMUP_KEYS);
        OUT.println("   platform: binary frames on /compute/containers/:id/terminal (JDK WebSocket client)");
        OUT.println("   direct:   docker exec with a TTY, same login shell, hijacked straight from the engine's unix socket");
        List<Double> platform = new ArrayList<>();
        List<Double> direct = new ArrayList<>();
        int[] lost = new int[1];
        PlatformTerminal viaPlatform = null;
        EngineTerminal viaEngine = null;
        try {
            viaPlatform = new PlatformTerminal(id);
            viaEngine = new EngineTerminal(name);
            OUT.printf("   prompt: platform %s, direct %s%n", printable(awaitPrompt(viaPlatform)),
                    printable(awaitPrompt(viaEngine)));
            typeBlock(viaPlatform, WARMUP_KEYS, gapMs, new ArrayList<>(), lost);
            typeBlock(viaEngine, WARMUP_KEYS, gapMs, new ArrayList<>(), lost);
            while (platform.size() < keystrokes || direct.size() < keystrokes) {
                int before = platform.size() + direct.size() + lost[0];
                if (platform.size() < keystrokes) {
                    typeBlock(viaPlatform, Math.min(BLOCK, keystrokes - platform.size()), gapMs, platform, lost);
                }
                if (direct.size() < keystrokes) {
                    typeBlock(viaEngine, Math.min(BLOCK, keystrokes - direct.size()), gapMs, direct, lost);
                }
                if (lost[0] > 10 || platform.size() + direct.size() + lost[0] == before) break;
            }
            OUT.printf("   shells exited: platform %s (%s), direct %s%n", exit(viaPlatform),
                    viaPlatform.closeReason, exit(viaEngine));
        } finally {
            if (viaPlatform != null) viaPlatform.close();
            if (viaEngine != null) viaEngine.close();
        }
        printQuantiles("platform (send -> echo over WS)", platform);
        printQuantiles("direct (send -> echo over docker exec)", direct);
        OUT.printf("ratio platform/direct: p50 %s, p99 %s%n", ratio(Stats.median(platform), Stats.median(direct)),
                ratio(Stats.percentile(platform, 0.99), Stats.percentile(direct, 0.99)));
        if (lost[0] > 0) OUT.printf("keystrokes without an echo within %d s: %d%n", ECHO_WAIT.toSeconds(), lost[0]);
        OUT.println();
        return new EchoResult(platform, direct, lost[0]);
    }

    /** The first output (the prompt) once the shell has been quiet for 300 ms; bounded. */
    private static String awaitPrompt(Terminal t) throws IOException, InterruptedException {
        Chunk first = t.output().poll(15, TimeUnit.SECONDS);
        if (first == null) throw new IOException("no prompt within 15 s");
        StringBuilder seen = new StringBuilder(new String(first.data(), StandardCharsets.UTF_8));
        seen.append(drainUntilQuiet(t, 300));
        return seen.toString();
    }

    /** Drops output until none came for {@code quietMs} (at most 5 s); returns what it dropped. */
    private static String drainUntilQuiet(Terminal t, long quietMs) throws InterruptedException {
        StringBuilder dropped = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Chunk c;
        while (System.nanoTime() < deadline && (c = t.output().poll(quietMs, TimeUnit.MILLISECONDS)) != null) {
            dropped.append(new String(c.data(), StandardCharsets.UTF_8));
        }
        return dropped.toString();
    }

    /** Types {@code n} letters, each after the echo of the previous one, then clears the line (Ctrl-U). */
    private static void typeBlock(Terminal t, int n, int gapMs, List<Double> into, int[] lost)
            throws IOException, InterruptedException {
        for (int k = 0; k < n; k++) {
            byte b = (byte) ('a' + k % 26);
            t.output().clear();
            long sent = System.nanoTime();
            t.send(new byte[] { b });
            long deadline = sent + ECHO_WAIT.toNanos();
            Chunk echo = null;
            for (long left; echo == null && (left = deadline - System.nanoTime()) > 0; ) {
                Chunk c = t.output().poll(left, TimeUnit.NANOSECONDS);
                if (c == null) break;
                if (c.contains(b)) echo = c;
            }
            if (echo == null) {
                lost[0]++;
            } else {
                into.add((echo.nanos() - sent) / 1e6);
            }
            if (gapMs > 0) Thread.sleep(gapMs);
        }
        t.send(new byte[] { CTRL_U });
        drainUntilQuiet(t, 50);
    }

    /** Clears the line, types exit and waits for the shell to end (bounded). */
    private static String exit(Terminal t) throws IOException, InterruptedException {
        t.send(new byte[] { CTRL_U });
        drainUntilQuiet(t, 50);
        t.send("exit\r".getBytes(StandardCharsets.US_ASCII));
        return t.awaitClosed(Duration.ofSeconds(5)) ? "yes" : "NO (still open after 5 s)";
    }

    // ---- output ---------------------------------------------------------------------------------------------

    private void printSummary(StatusResult status, EchoResult echo, String loadAtStart) {
        OUT.printf("== Summary (load average at start %s, at end %s)%n", loadAtStart, Bench.loadAverage());
        String format = "%-60s %-22s %-12s %s%n";
        OUT.printf(format, "figure", "value", "goal", "met");
        List<Double> platform = status.changes().stream().map(Change::platformMs).toList();
        List<Double> direct = status.changes().stream().map(Change::directMs).toList();
        List<Double> added = status.changes().stream().map(Change::addedMs).toList();
        String n = " (n=" + status.changes().size() + (status.missing() > 0 ? ", " + status.missing() + " missing" : "") + ")";
        OUT.printf(format, "status event -> WS message p50 / p99" + n, pair(platform), "p99 < 50 ms",
                Bench.met(Stats.percentile(platform, 0.99) < 50));
        OUT.printf(format, "status event -> direct engine subscriber p50 / p99", pair(direct), "", "");
        OUT.printf(format, "platform's added delay (WS - direct) p50 / p99", pair(added), "", "");
        OUT.printf(format, "status ratio platform/direct (p50)",
                ratio(Stats.median(platform), Stats.median(direct)), "", "");
        OUT.printf(format, "status changes whose WS message never came", Integer.toString(status.missing()), "0",
                Bench.met(status.missing() == 0));
        OUT.printf(format, "keystroke echo platform p50 / p99 (n=" + echo.platform().size() + ")", pair(echo.platform()),
                "", "");
        OUT.printf(format, "keystroke echo direct p50 / p99 (n=" + echo.direct().size() + ")", pair(echo.direct()), "", "");
        OUT.printf(format, "keystroke echo ratio platform/direct (p50)",
                ratio(Stats.median(echo.platform()), Stats.median(echo.direct())), "", "");
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f) b.append(c);
            else b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
        }
        return b.append('"').toString();
    }

    private String wsBase() {
        return api.replaceFirst("^http", "ws");
    }
}
