package com.ecloud.compute.bench;

import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark of issue 2, in one run against a platform that bench/run.sh started on a temporary data
 * directory:
 *
 * <ol>
 * <li>create -> running: {@code POST /compute/containers} until docker inspect and then the API say
 * {@code running} (both polled every 10 ms), against the raw Docker Engine API doing the same container with
 * the same volume work ({@link RawDocker}), and the raw API plus the platform's extra engine work (to attribute
 * the difference); interleaved, after warm-ups; median, p95 and the ratio; plus where the time goes, from the
 * engine's event stream.</li>
 * <li>{@code GET /compute/containers} with a valid token (a user with 3 containers) against {@code GET /livez},
 * same load generator, concurrency and duration.</li>
 * </ol>
 *
 * Everything it creates it deletes after each run; all waits are bounded.
 */
public final class Bench {

    private static final PrintStream OUT = System.out;
    private static final List<String> MOUNT_PATHS = List.of("/root");
    private static final int MEMORY_MB = 512;
    private static final int STORAGE_GB = 5;
    private static final int MAX_FAILURES = 5;
    /** Runs repeated because the engine went away meanwhile (restarted by someone else), at most, per scenario. */
    private static final int MAX_REPEATS = 5;

    /** One container shape measured both ways. */
    record Scenario(String key, String label, String apiImage, String engineImage, String instanceType, String arch,
            int cpuMillis, int runs, int warmups) {
    }

    /** One platform run: ms from sending POST. */
    record PlatformTiming(double runningMs, double postMs, double engineStartedMs, double deleteMs, String id,
            long epochStart) {
    }

    /** One engine event of the container type. */
    record EngineEvent(String name, String action, long epochNanos) {
    }

    /** The figures of one scenario, for the closing table. */
    record ScenarioResult(Scenario scenario, List<Double> platform, List<Double> raw, List<Double> rawExtras,
            int failures) {
        double ratio() {
            return Stats.median(platform) / Stats.median(raw);
        }
    }

    private final Options options;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "watchdog");
        t.setDaemon(true);
        return t;
    });
    private final ConcurrentLinkedQueue<EngineEvent> events = new ConcurrentLinkedQueue<>();
    /** Containers a failed run could not delete (the engine was away), by id, with the API of their owner. */
    private final Map<String, PlatformApi> leftovers = new LinkedHashMap<>();
    private final DockerEngine engine;
    private final RawDocker raw;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String api;
    /** true: poll the API every 10 ms from the start; false: watch the engine's events first (the default). */
    private final boolean pollApiOnly;

    private Bench(Options options) {
        this.options = options;
        this.api = require("api");
        this.engine = new DockerEngine(Path.of(options.get("docker-socket", "/var/run/docker.sock")), watchdog,
                Duration.ofSeconds(120));
        this.raw = new RawDocker(engine, Path.of(require("raw-dir")), options.get("run-id", "manual"), 512, 10);
        this.pollApiOnly = "api".equals(options.get("poll", "engine"));
    }

    public static void main(String[] args) throws Exception {
        int status = new Bench(Options.parse(args)).run();
        System.exit(status);
    }

    private int run() throws Exception {
        String loadAtStart = loadAverage();
        OUT.printf("ecloud compute benchmark, %s%n", Instant.now());
        OUT.printf("host: %d CPUs, load average at start %s; Docker Engine API %s over %s%n",
                Runtime.getRuntime().availableProcessors(), loadAtStart, DockerEngine.VERSION,
                options.get("docker-socket", "/var/run/docker.sock"));
        OUT.printf("platform: %s (its own data directory, started by run.sh)%n%n", api);

        Files.createDirectories(Path.of(require("raw-dir")));
        String publicKey = Files.readString(Path.of(require("ssh-public-key")), StandardCharsets.UTF_8).trim();
        PlatformApi creator = new PlatformApi(http, api, require("token-create"));
        PlatformApi lister = new PlatformApi(http, api, require("token-list"));
        long creatorKey = creator.sshKey(publicKey);
        long listerKey = lister.sshKey(publicKey);
        creator.deleteAll();
        lister.deleteAll();

        List<ScenarioResult> results = new ArrayList<>();
        LoadTest.Result listLoad = null;
        LoadTest.Result livezLoad = null;
        try (Closeable stream = engine.events(this::onEngineEvent)) {
            int runs = intOption("runs", 20);
            int warmups = intOption("warmups", 2);
            if (runs > 0) {
                results.add(createToRunning(creator, creatorKey, publicKey, new Scenario("busybox-tiny",
                        "BusyBox on tiny (amd64)", "ecloud/busybox:latest", "ecloud/busybox:latest-amd64", "tiny",
                        "amd64", 1000, runs, warmups)));
            }
            int armRuns = intOption("arm-runs", 20);
            if (armRuns > 0) {
                results.add(createToRunning(creator, creatorKey, publicKey, new Scenario("debian-nano",
                        "Debian (Base) on nano (arm64 under qemu)", "ecloud/debian:bookworm",
                        "ecloud/debian:bookworm-arm64", "nano", "arm64", 500, armRuns, intOption("arm-warmups", 2))));
            }

            OUT.println("== 2. GET /compute/containers with a token against GET /livez");
            List<String> ids = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) ids.add(lister.createRunningBusybox(listerKey, "list-" + i));
                Object listed = lister.get("/compute/containers").expect(200).json().get("containers");
                OUT.printf("user with %d containers (running): %s%n", ((List<?>) listed).size(), ids);
                LoadTest load = new LoadTest(options.get("wrk"), intOption("threads", 2), intOption("connections", 8));
                int warm = intOption("warm-seconds", 3);
                int seconds = intOption("seconds", 10);
                String listUrl = api + "/compute/containers";
                String livezUrl = api + "/livez";
                OUT.printf("load: %s, %d s warm-up then %d s measured, each endpoint%n", load.tool(), warm, seconds);
                load.run(listUrl, require("token-list"), warm);
                listLoad = load.run(listUrl, require("token-list"), seconds);
                printLoad("GET /compute/containers (auth, 3 containers)", listLoad);
                load.run(livezUrl, null, warm);
                livezLoad = load.run(livezUrl, null, seconds);
                printLoad("GET /livez", livezLoad);
            } finally {
                for (String id : ids) lister.delete("/compute/containers/" + id).expect(200, 404);
            }
            OUT.println();
        } finally {
            watchdog.shutdownNow();
        }

        printTable(results, listLoad, livezLoad, loadAtStart);
        return 0;
    }

    // ---- 1. create -> running ---------------------------------------------------------------------------------

    private ScenarioResult createToRunning(PlatformApi api, long keyId, String publicKey, Scenario s)
            throws Exception {
        boolean extras = !"false".equals(options.get("raw-extras", "true"));
        OUT.printf("== 1. create -> running: %s, %d runs each way, interleaved (%s, ...) after %d warm-up(s) each%n",
                s.label(), s.runs(), extras ? "platform, raw, raw+extras" : "platform, raw", s.warmups());
        OUT.printf("   %s, memory_mb %d, storage_gb %d, mount_paths %s; engine image %s%n", s.instanceType(), MEMORY_MB,
                STORAGE_GB, MOUNT_PATHS, s.engineImage());
        OUT.printf("   platform: POST -> the API says running (%s), checked against docker inspect%n", pollApiOnly
                ? "GET every 10 ms from the start"
                : "GET every 10 ms once docker inspect (every 10 ms) says running, every 250 ms before");
        OUT.println("   raw: sparse file + mkfs.ext4 + loop mount + mkdir + bind mount, create, start -> inspect running");
        if (extras) {
            OUT.println("   raw+extras: raw plus the platform's extra engine work (seed /root from the image through a"
                    + " helper container; authorized_keys through the archive API), to attribute the difference");
        }
        OUT.printf("%-8s %12s %12s %16s %18s%n", "run", "platform_ms", "raw_ms", extras ? "raw+extras_ms" : "",
                "engine_started_ms");
        List<PlatformTiming> platformRuns = new ArrayList<>();
        List<RawDocker.Timing> rawRuns = new ArrayList<>();
        List<RawDocker.Timing> extraRuns = new ArrayList<>();
        Map<RawDocker.Timing, String> rawNames = new HashMap<>();
        int failures = 0;
        int repeats = 0;
        for (int i = 0; i < s.warmups() + s.runs(); i++) {
            boolean warmup = i < s.warmups();
            String label = warmup ? "warm-" + (i + 1) : Integer.toString(i - s.warmups() + 1);
            PlatformTiming p = null;
            RawDocker.Timing r = null;
            RawDocker.Timing x = null;
            String rawName = "bench-" + s.key().charAt(0) + "-" + i;
            String extraName = "bench-" + s.key().charAt(0) + "x" + i;
            try {
                p = platformRun(api, keyId, s, "bench-" + i);
            } catch (IOException e) {
                failures++;
                OUT.printf("%-8s platform run failed: %s%n", label, e.getMessage());
            }
            try {
                r = rawRun(s, rawName, false, publicKey);
                rawNames.put(r, rawName);
            } catch (IOException e) {
                failures++;
                OUT.printf("%-8s raw run failed: %s%n", label, e.getMessage());
            }
            if (extras) {
                try {
                    x = rawRun(s, extraName, true, publicKey);
                    rawNames.put(x, extraName);
                } catch (IOException e) {
                    failures++;
                    OUT.printf("%-8s raw+extras run failed: %s%n", label, e.getMessage());
                }
            }
            boolean incomplete = p == null || r == null || (extras && x == null);
            if (incomplete && !engineAvailable() && repeats < MAX_REPEATS) {
                // not the platform's fault nor the engine's speed: someone restarted the engine; do the run again
                repeats++;
                failures -= (p == null ? 1 : 0) + (r == null ? 1 : 0) + (extras && x == null ? 1 : 0);
                OUT.printf("%-8s the engine went away (restarted?): waiting for it and repeating this run%n", label);
                awaitEngineAndPlatform();
                i--;
                continue;
            }
            OUT.printf("%-8s %12s %12s %16s %18s%n", label, p == null ? "-" : fmt(p.runningMs()),
                    r == null ? "-" : fmt(r.totalMs()), !extras ? "" : x == null ? "-" : fmt(x.totalMs()),
                    p == null ? "-" : fmt(p.engineStartedMs()));
            if (!warmup) {
                if (p != null) platformRuns.add(p);
                if (r != null) rawRuns.add(r);
                if (x != null) extraRuns.add(x);
            }
            if (failures >= MAX_FAILURES) {
                OUT.printf("stopping this scenario after %d failures%n", failures);
                break;
            }
        }
        List<Double> platform = platformRuns.stream().map(PlatformTiming::runningMs).toList();
        List<Double> rawTimes = rawRuns.stream().map(RawDocker.Timing::totalMs).toList();
        List<Double> extraTimes = extraRuns.stream().map(RawDocker.Timing::totalMs).toList();
        ScenarioResult result = new ScenarioResult(s, platform, rawTimes, extraTimes, failures);
        OUT.printf("platform:   median %s ms, p95 %s ms (n=%d)%n", fmt(Stats.median(platform)),
                fmt(Stats.percentile(platform, 0.95)), platform.size());
        OUT.printf("raw:        median %s ms, p95 %s ms (n=%d)%n", fmt(Stats.median(rawTimes)),
                fmt(Stats.percentile(rawTimes, 0.95)), rawTimes.size());
        if (extras) {
            OUT.printf("raw+extras: median %s ms, p95 %s ms (n=%d)%n", fmt(Stats.median(extraTimes)),
                    fmt(Stats.percentile(extraTimes, 0.95)), extraTimes.size());
        }
        OUT.printf("ratio platform/raw: median %.2f, p95 %.2f (goal <= 1.10)%n", result.ratio(),
                Stats.percentile(platform, 0.95) / Stats.percentile(rawTimes, 0.95));
        if (extras) {
            OUT.printf("ratio platform/(raw+extras): median %.2f (the platform's own overhead: Java, store, extra"
                    + " engine round trips)%n", Stats.median(platform) / Stats.median(extraTimes));
        }
        printPhases(platformRuns, rawRuns, extraRuns, rawNames);
        OUT.println();
        return result;
    }

    private PlatformTiming platformRun(PlatformApi api, long keyId, Scenario s, String name) throws Exception {
        String body = "{\"name\":" + Json.quote(name) + ",\"instance_type\":" + Json.quote(s.instanceType())
                + ",\"image\":" + Json.quote(s.apiImage()) + ",\"ssh_key_ids\":[" + keyId + "],\"memory_mb\":" + MEMORY_MB
                + ",\"storage_gb\":" + STORAGE_GB + ",\"mount_paths\":[\"/root\"]}";
        long epochStart = epochNanos();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(180);
        Map<String, Object> created = api.post("/compute/containers", body).expect(201).json();
        long tPost = System.nanoTime();
        String id = (String) created.get("id");
        try {
            String status = (String) created.get("status");
            long nextApiPoll = System.nanoTime();
            boolean engineRunning = false;
            for (int i = 0; !"running".equals(status); i++) {
                if ("failed".equals(status) || "stopped".equals(status)) {
                    throw new IOException("container " + id + " is " + status + ": "
                            + api.get("/compute/containers/" + id).body());
                }
                if (System.nanoTime() > deadline || i > 1_000_000) throw new IOException(id + " not running after 180 s");
                Thread.sleep(10);
                if (!pollApiOnly && !engineRunning) {
                    // until the engine runs it, ask the engine every 10 ms (no load on the platform) and the API
                    // only every 250 ms (for a failure); from then on, the API every 10 ms
                    engineRunning = engineSaysRunning(id);
                    if (!engineRunning && System.nanoTime() < nextApiPoll) continue;
                    nextApiPoll = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(250);
                }
                status = (String) api.get("/compute/containers/" + id).expect(200).json().get("status");
            }
            long tRunning = System.nanoTime();
            // the engine must agree
            Map<String, Object> inspect = engine.get("/containers/ecloud-" + id + "/json").expect(200).json();
            if (!Boolean.TRUE.equals(Json.at(inspect, "State", "Running"))) {
                throw new IOException("the API says running, the engine does not: " + Json.at(inspect, "State", "Status"));
            }
            double startedMs = Double.NaN;
            try {
                Instant started = Instant.parse((String) Json.at(inspect, "State", "StartedAt"));
                startedMs = (started.getEpochSecond() * 1_000_000_000L + started.getNano() - epochStart) / 1e6;
            } catch (DateTimeParseException | NullPointerException e) {
                // reported as "-"
            }
            long tDelete = System.nanoTime();
            api.delete("/compute/containers/" + id).expect(200);
            id = null;
            return new PlatformTiming(RawDocker.ms(tRunning - t0), RawDocker.ms(tPost - t0), startedMs,
                    RawDocker.ms(System.nanoTime() - tDelete), (String) created.get("id"), epochStart);
        } finally {
            if (id != null) deleteOrRemember(api, id);
        }
    }

    /** Deletes a container now, or after the engine is back when that fails (a restart of the engine). */
    private void deleteOrRemember(PlatformApi api, String id) {
        try {
            api.delete("/compute/containers/" + id).expect(200, 404);
        } catch (IOException | InterruptedException | RuntimeException e) {
            leftovers.put(id, api);
        }
    }

    /** Whether the engine answers its ping now. */
    private boolean engineAvailable() {
        try {
            return engine.get("/_ping").status() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * After the engine went away (another user of this machine restarted it): waits until it and the platform
     * are ready again (bounded) and deletes what the interrupted run left.
     */
    private void awaitEngineAndPlatform() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!engineAvailable() && System.nanoTime() < deadline) Thread.sleep(500);
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(api + "/readyz"))
                        .timeout(Duration.ofSeconds(5)).build(),
                        java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200) break;
            } catch (IOException e) {
                // not yet
            }
            Thread.sleep(500);
        }
        for (Map.Entry<String, PlatformApi> left : List.copyOf(leftovers.entrySet())) {
            for (int attempt = 0; attempt < 20 && leftovers.containsKey(left.getKey()); attempt++) {
                try {
                    left.getValue().delete("/compute/containers/" + left.getKey()).expect(200, 404);
                    leftovers.remove(left.getKey());
                } catch (IOException e) {
                    Thread.sleep(1000);
                }
            }
        }
    }

    /** Whether docker inspect says the platform's container runs; false while it does not exist yet. */
    private boolean engineSaysRunning(String id) throws IOException {
        DockerEngine.Reply reply = engine.get("/containers/ecloud-" + id + "/json");
        if (reply.status() == 404) return false;
        return Boolean.TRUE.equals(Json.at(reply.expect(200).json(), "State", "Running"));
    }

    private RawDocker.Timing rawRun(Scenario s, String name, boolean extras, String publicKey) throws Exception {
        raw.remove(name); // a leftover of an interrupted run
        try {
            return raw.createAndStart(name, s.engineImage(), s.arch(), s.cpuMillis(), MEMORY_MB, STORAGE_GB, MOUNT_PATHS,
                    extras, publicKey, System.nanoTime() + TimeUnit.SECONDS.toNanos(180));
        } finally {
            raw.remove(name);
        }
    }

    // ---- where the time goes ------------------------------------------------------------------------------------

    private void onEngineEvent(Map<String, Object> event) {
        Object name = Json.at(event, "Actor", "Attributes", "name");
        Object action = event.get("Action") != null ? event.get("Action") : event.get("status");
        Object time = event.get("timeNano");
        if (name == null || action == null || !(time instanceof Number)) return;
        // exec events carry the command after a colon ("exec_start: sh"); keep the action only
        String a = action.toString();
        int colon = a.indexOf(':');
        events.add(new EngineEvent(name.toString(), colon < 0 ? a : a.substring(0, colon), ((Number) time).longValue()));
    }

    /** ms from {@code epochStart} to the first event of that container and action, NaN when there is none. */
    private double eventAt(String name, String action, long epochStart) {
        for (EngineEvent e : events) {
            if (e.name().equals(name) && e.action().equals(action) && e.epochNanos() >= epochStart) {
                return (e.epochNanos() - epochStart) / 1e6;
            }
        }
        return Double.NaN;
    }

    private void printPhases(List<PlatformTiming> platformRuns, List<RawDocker.Timing> rawRuns,
            List<RawDocker.Timing> extraRuns, Map<RawDocker.Timing, String> rawNames) throws InterruptedException {
        Thread.sleep(300); // the last events are on their way
        Map<String, List<Double>> p = new LinkedHashMap<>();
        for (PlatformTiming t : platformRuns) {
            String main = "ecloud-" + t.id();
            String seed = "ecloud-seed-" + t.id();
            long e0 = t.epochStart();
            add(p, "POST answered 201 (stored, provisioning queued)", t.postMs());
            add(p, "seed helper created (after volume: sparse file, mkfs, mount)", eventAt(seed, "create", e0));
            add(p, "image's /root copied out of the helper", eventAt(seed, "archive-path", e0));
            add(p, "seed helper removed", eventAt(seed, "destroy", e0));
            add(p, "container created", eventAt(main, "create", e0));
            add(p, "authorized_keys written (archive PUT)", eventAt(main, "extract-to-dir", e0));
            add(p, "container started (engine event)", eventAt(main, "start", e0));
            add(p, "API says running", t.runningMs());
            add(p, "(DELETE afterwards, not in the figure)", t.deleteMs());
        }
        OUT.println("where the time goes (median ms since the request; engine events from the engine's event stream):");
        if (events.isEmpty()) OUT.println("  (no engine events arrived: the event stream was down, e.g. the engine restarted)");
        OUT.println("  platform:");
        p.forEach((k, v) -> OUT.printf("    %-64s %8s%n", k, fmt(Stats.median(v))));
        for (List<RawDocker.Timing> runs : List.of(rawRuns, extraRuns)) {
            if (runs.isEmpty()) continue;
            boolean extras = runs == extraRuns;
            Map<String, List<Double>> r = new LinkedHashMap<>();
            for (RawDocker.Timing t : runs) {
                String name = rawNames.get(t);
                long e0 = t.epochStartNanos();
                add(r, "volume ready (sparse file, mkfs, mount)", t.volumeMs());
                if (extras) {
                    add(r, "seed helper created", eventAt(name + "-seed", "create", e0));
                    add(r, "image's /root copied out of the helper", eventAt(name + "-seed", "archive-path", e0));
                    add(r, "seed helper removed", eventAt(name + "-seed", "destroy", e0));
                }
                add(r, "container created (engine event)", eventAt(name, "create", e0));
                if (extras) add(r, "authorized_keys written (archive PUT)", eventAt(name, "extract-to-dir", e0));
                add(r, "container started (engine event)", eventAt(name, "start", e0));
                add(r, "engine says running (inspect)", t.totalMs());
                add(r, "  durations: create call", t.createMs());
                if (extras) add(r, "  durations: seed (helper, archive GET, tar -x, remove)", t.seedMs());
                if (extras) add(r, "  durations: authorized_keys (HEAD, HEAD, PUT)", t.keysMs());
                add(r, "  durations: start call", t.startMs());
            }
            OUT.println(extras ? "  raw+extras:" : "  raw:");
            r.forEach((k, v) -> OUT.printf("    %-64s %8s%n", k, fmt(Stats.median(v))));
        }
        events.clear();
    }

    private static void add(Map<String, List<Double>> m, String key, double v) {
        m.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
    }

    // ---- output ---------------------------------------------------------------------------------------------------

    private static void printLoad(String what, LoadTest.Result r) {
        OUT.printf("%-46s %9.0f req/s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  (%d requests, %d errors)%n", what,
                r.requestsPerSecond(), r.p50Ms(), r.p90Ms(), r.p99Ms(), r.requests(), r.errors());
    }

    private static void printTable(List<ScenarioResult> results, LoadTest.Result list, LoadTest.Result livez,
            String loadAtStart) {
        OUT.printf("== Summary (load average at start %s, at end %s)%n", loadAtStart, loadAverage());
        String format = "%-60s %-22s %-12s %s%n";
        OUT.printf(format, "figure", "value", "goal", "met");
        for (ScenarioResult r : results) {
            Scenario s = r.scenario();
            String n = " (n=" + r.platform().size() + "/" + r.raw().size()
                    + (r.failures() > 0 ? ", " + r.failures() + " failed" : "") + ")";
            OUT.printf(format, "create->running " + s.key() + " platform median/p95",
                    fmt(Stats.median(r.platform())) + " / " + fmt(Stats.percentile(r.platform(), 0.95)) + " ms", "", "");
            OUT.printf(format, "create->running " + s.key() + " raw median/p95",
                    fmt(Stats.median(r.raw())) + " / " + fmt(Stats.percentile(r.raw(), 0.95)) + " ms", "", "");
            if (!r.rawExtras().isEmpty()) {
                OUT.printf(format, "create->running " + s.key() + " raw+extras median/p95",
                        fmt(Stats.median(r.rawExtras())) + " / " + fmt(Stats.percentile(r.rawExtras(), 0.95)) + " ms",
                        "", "");
            }
            OUT.printf(format, "create->running " + s.key() + " ratio (medians)" + n,
                    String.format(Locale.ROOT, "%.2f", r.ratio()), "<= 1.10", met(r.ratio() <= 1.10));
        }
        if (list != null && livez != null) {
            double ratio = list.requestsPerSecond() / livez.requestsPerSecond();
            OUT.printf(format, "GET /compute/containers (auth) req/s", String.format(Locale.ROOT, "%.0f", list.requestsPerSecond()), "", "");
            OUT.printf(format, "GET /livez req/s", String.format(Locale.ROOT, "%.0f", livez.requestsPerSecond()), "", "");
            OUT.printf(format, "list/livez throughput ratio", String.format(Locale.ROOT, "%.2f", ratio), ">= 0.5",
                    met(ratio >= 0.5));
            OUT.printf(format, "list latency p50 / p99",
                    String.format(Locale.ROOT, "%.2f / %.2f ms", list.p50Ms(), list.p99Ms()), "p99 < 5 ms",
                    met(list.p99Ms() < 5));
            OUT.printf(format, "(livez latency p50 / p99, same load)",
                    String.format(Locale.ROOT, "%.2f / %.2f ms", livez.p50Ms(), livez.p99Ms()), "", "");
            if (list.errors() + livez.errors() > 0) {
                OUT.printf("WARNING: %d error answers during the load (list %d, livez %d)%n",
                        list.errors() + livez.errors(), list.errors(), livez.errors());
            }
        }
    }

    static String met(boolean yes) {
        return yes ? "yes" : "NO";
    }

    private static String fmt(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.0f", ms);
    }

    static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private String require(String name) {
        return options.require(name);
    }

    private int intOption(String name, int fallback) {
        return options.intOption(name, fallback);
    }
}
