package com.ecloud.compute.bench;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The LXD benchmark (bench/lxd.sh): create -> running through the Compute API of a platform whose containers land
 * on LXD, against a hand-written client of LXD's REST API doing create + start of the same instance (same image,
 * limits, raw.lxc and root disk as the LXD runtime gives it), and, to attribute the difference, that client plus
 * the LXD work the runtime adds (the mount path's custom volume, its seeding through exec, the device move, the
 * authorized_keys push). Interleaved, the order alternating run by run, after warm-ups; p50, p90, mean and the
 * ratio platform/raw against the goal (<= 1.10).
 *
 * <p>Every platform container is checked to be an LXD instance ({@code ecloud-<id>}, Running, carrying its id).
 * Everything it creates it deletes after each run (platform containers through the API, raw instances by stop and
 * DELETE); all waits are bounded.
 */
public final class LxdBench {

    private static final PrintStream OUT = System.out;
    private static final int MAX_FAILURES = 5;
    private static final double GOAL = 1.10;
    /** The mount path the platform gives a container by default (the API allows no empty list). */
    private static final String MOUNT_PATH = "/root";

    /** One platform run, ms from sending the POST; NaN where LXD did not say. */
    record PlatformTiming(double runningMs, double postMs, double lxdCreatedMs, double lxdStartedMs, double deleteMs,
            Map<String, Double> operations) {
    }

    /** One raw run, ms from its first request. */
    record RawTiming(double createMs, double startMs, double totalMs) {
    }

    private final Options options;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "watchdog");
        t.setDaemon(true);
        return t;
    });
    private final LxdSocket lxd;
    private final String runId;
    /** The raw side's volume that new volumes are copied from, as the runtime copies an image's seed template. */
    private final String rawTemplate;
    private final String alias;
    private final String pool;
    private final int memoryMb;
    private final int storageGb;
    private final int cpuMillis;
    private final int pidsLimit;
    private final String publicKey;

    private LxdBench(Options options) throws IOException {
        this.options = options;
        this.lxd = new LxdSocket(Path.of(options.get("socket", "/var/lib/lxd/unix.socket")), watchdog,
                Duration.ofSeconds(120));
        this.runId = options.get("run-id", "manual");
        this.rawTemplate = "ecbench-tmpl-" + runId.replaceAll("[^A-Za-z0-9-]", "-");
        this.alias = options.get("alias", "ecloud/busybox:latest-amd64");
        this.pool = options.get("pool", "ecloud");
        this.memoryMb = options.intOption("memory-mb", 512);
        this.storageGb = options.intOption("storage-gb", 5);
        this.cpuMillis = 1000; // tiny: one amd64 core
        this.pidsLimit = options.intOption("pids-limit", 512);
        this.publicKey = Files.readString(Path.of(options.require("ssh-public-key")), StandardCharsets.UTF_8).trim();
    }

    public static void main(String[] args) throws Exception {
        int status;
        LxdBench bench = new LxdBench(Options.parse(args));
        try {
            status = bench.run();
        } finally {
            bench.watchdog.shutdownNow();
        }
        System.exit(status);
    }

    private int run() throws Exception {
        String loadAtStart = Bench.loadAverage();
        Object server = lxd.getOrNull("/1.0");
        OUT.printf("ecloud compute LXD benchmark, %s%n", Instant.now());
        OUT.printf("host: %d CPUs, load average at start %s; LXD %s (%s) over %s%n",
                Runtime.getRuntime().availableProcessors(), loadAtStart, Json.at(server, "environment", "server_version"),
                Json.at(server, "environment", "storage"), options.get("socket", "/var/lib/lxd/unix.socket"));
        String apiBase = options.require("api");
        OUT.printf("platform: %s (its own data directory, started by lxd.sh, runtime.preference lxd)%n%n", apiBase);

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        PlatformApi api = new PlatformApi(http, apiBase, options.require("token"));
        long keyId = api.sshKey(publicKey);
        api.deleteAll();

        int runs = options.intOption("runs", 10);
        int warmups = options.intOption("warmups", 2);
        boolean extras = !"false".equals(options.get("raw-extras", "true"));
        String instanceType = options.get("instance-type", "tiny");
        String apiImage = options.get("api-image", "ecloud/busybox:latest");
        OUT.printf("== create -> running on LXD: BusyBox on %s (amd64), %d runs each way, interleaved (order alternating"
                + " run by run) after %d warm-up(s) each%n", instanceType, runs, warmups);
        OUT.printf("   memory_mb %d, storage_gb %d, mount_paths [\"%s\"] (the API's default); LXD image alias %s, pool %s%n",
                memoryMb, storageGb, MOUNT_PATH, alias, pool);
        OUT.println("   platform: POST /compute/containers, then GET /compute/containers/{id} every 10 ms until running;"
                + " checked: LXD instance ecloud-<id> Running");
        OUT.println("   raw: POST /1.0/instances (limits.cpu, limits.memory, no swap, limits.processes, raw.lxc, root disk"
                + " with size) + wait, PUT state start + wait, GET state Running");
        if (extras) {
            OUT.println("   raw+extras: raw plus the LXD runtime's own extra LXD work (GETs before create, custom volume of"
                    + " /root copied from a template volume + its config, owner/mode exec, authorized_keys push), to"
                    + " attribute the difference");
        }
        OUT.printf("%-8s %12s %12s %15s %18s %18s%n", "run", "platform_ms", "raw_ms", extras ? "raw+extras_ms" : "",
                "lxd_created_ms", "lxd_started_ms");

        List<PlatformTiming> platformRuns = new ArrayList<>();
        List<RawTiming> rawRuns = new ArrayList<>();
        List<RawTiming> extraRuns = new ArrayList<>();
        int failures = 0;
        int verified = 0;
        for (int i = 0; i < warmups + runs; i++) {
            boolean warmup = i < warmups;
            String label = warmup ? "warm-" + (i + 1) : Integer.toString(i - warmups + 1);
            PlatformTiming p = null;
            RawTiming r = null;
            RawTiming x = null;
            // alternating the order so that neither side always runs right after the other's cleanup
            for (int step = 0; step < 3; step++) {
                int which = (i % 2 == 0) ? step : (2 - step);
                try {
                    if (which == 0) {
                        p = platformRun(api, keyId, instanceType, apiImage, "lxd-bench-" + i);
                        verified++;
                    } else if (which == 1) {
                        r = rawRun("bench-" + runId + "-r" + i, false);
                    } else if (extras) {
                        x = rawRun("bench-" + runId + "-x" + i, true);
                    }
                } catch (IOException e) {
                    failures++;
                    OUT.printf("%-8s %s run failed: %s%n", label, which == 0 ? "platform" : which == 1 ? "raw" : "raw+extras",
                            e.getMessage());
                }
            }
            OUT.printf("%-8s %12s %12s %15s %18s %18s%n", label, p == null ? "-" : fmt(p.runningMs()),
                    r == null ? "-" : fmt(r.totalMs()), !extras ? "" : x == null ? "-" : fmt(x.totalMs()),
                    p == null ? "-" : fmt(p.lxdCreatedMs()), p == null ? "-" : fmt(p.lxdStartedMs()));
            if (!warmup) {
                if (p != null) platformRuns.add(p);
                if (r != null) rawRuns.add(r);
                if (x != null) extraRuns.add(x);
            }
            if (failures >= MAX_FAILURES) {
                OUT.printf("stopping after %d failures%n", failures);
                break;
            }
        }

        List<Double> platform = platformRuns.stream().map(PlatformTiming::runningMs).toList();
        List<Double> raw = rawRuns.stream().map(RawTiming::totalMs).toList();
        List<Double> rawExtras = extraRuns.stream().map(RawTiming::totalMs).toList();
        OUT.println();
        printSample("platform", platform);
        printSample("raw", raw);
        if (extras) printSample("raw+extras", rawExtras);
        OUT.printf("ratio platform/raw: p50 %s, p90 %s, mean %s (goal <= %.2f)%n", Figures.ratio(Stats.median(platform),
                Stats.median(raw)), Figures.ratio(Stats.percentile(platform, 0.9), Stats.percentile(raw, 0.9)),
                Figures.ratio(mean(platform), mean(raw)), GOAL);
        if (extras) {
            OUT.printf("ratio platform/(raw+extras): p50 %s (the platform's own overhead: Java, store, HTTP client,"
                    + " polling)%n", Figures.ratio(Stats.median(platform), Stats.median(rawExtras)));
        }
        printPhases(platformRuns, rawRuns, extraRuns);

        OUT.printf("%n== Summary (load average at start %s, at end %s)%n", loadAtStart, Bench.loadAverage());
        String format = "%-58s %-30s %-10s %s%n";
        OUT.printf(format, "figure", "value", "goal", "met");
        String n = " (n=" + platform.size() + "/" + raw.size() + (failures > 0 ? ", " + failures + " failed" : "") + ")";
        OUT.printf(format, "LXD create->running platform p50/p90/mean", triple(platform), "", "");
        OUT.printf(format, "LXD create->running raw p50/p90/mean", triple(raw), "", "");
        if (extras) OUT.printf(format, "LXD create->running raw+extras p50/p90/mean", triple(rawExtras), "", "");
        double ratio = Stats.median(platform) / Stats.median(raw);
        OUT.printf(format, "LXD create->running ratio platform/raw (p50)" + n, Figures.ratio(Stats.median(platform),
                Stats.median(raw)), String.format(Locale.ROOT, "<= %.2f", GOAL), Bench.met(ratio <= GOAL));
        OUT.printf(format, "LXD create->running ratio platform/raw (mean)", Figures.ratio(mean(platform), mean(raw)),
                String.format(Locale.ROOT, "<= %.2f", GOAL), Bench.met(mean(platform) / mean(raw) <= GOAL));
        OUT.printf(format, "platform containers verified as LXD instances ecloud-<id>", verified + " of "
                + (warmups + runs), "all", Bench.met(verified == warmups + runs));
        // a platform that never got a container running on LXD is a failure of the run, not a figure
        return platform.isEmpty() || raw.isEmpty() ? 2 : 0;
    }

    // ---- platform -------------------------------------------------------------------------------------------------

    private PlatformTiming platformRun(PlatformApi api, long keyId, String instanceType, String image, String name)
            throws Exception {
        String body = "{\"name\":" + Json.quote(name) + ",\"instance_type\":" + Json.quote(instanceType) + ",\"image\":"
                + Json.quote(image) + ",\"ssh_key_ids\":[" + keyId + "],\"memory_mb\":" + memoryMb + ",\"storage_gb\":"
                + storageGb + ",\"mount_paths\":[" + Json.quote(MOUNT_PATH) + "]}";
        long epochStart = Bench.epochNanos();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(180);
        Map<String, Object> created = api.post("/compute/containers", body).expect(201).json();
        long tPost = System.nanoTime();
        String id = (String) created.get("id");
        try {
            String status = (String) created.get("status");
            while (!"running".equals(status)) {
                if ("failed".equals(status) || "stopped".equals(status)) {
                    throw new IOException("container " + id + " is " + status + ": "
                            + Json.abbreviate(api.get("/compute/containers/" + id).body()));
                }
                if (System.nanoTime() > deadline) throw new IOException(id + " not running after 180 s: " + status);
                Thread.sleep(10);
                status = (String) api.get("/compute/containers/" + id).expect(200).json().get("status");
            }
            long tRunning = System.nanoTime();
            // it must be an LXD instance of this platform, running
            String instanceName = "ecloud-" + id;
            Object instance = lxd.getOrNull("/1.0/instances/" + LxdSocket.segment(instanceName));
            if (instance == null) {
                throw new IOException("the API says running, but LXD has no instance " + instanceName
                        + " (placed on another runtime?)");
            }
            if (!"Running".equals(Json.at(instance, "status"))
                    || !id.equals(Json.at(instance, "config", "user.ecloud.container_id"))) {
                throw new IOException("LXD instance " + instanceName + " is " + Json.at(instance, "status")
                        + ", container_id " + Json.at(instance, "config", "user.ecloud.container_id"));
            }
            double createdMs = sinceMs(Json.at(instance, "created_at"), epochStart);
            double startedMs = sinceMs(Json.at(instance, "last_used_at"), epochStart);
            Map<String, Double> operations = operationsOf(instanceName, epochStart);
            long tDelete = System.nanoTime();
            api.delete("/compute/containers/" + id).expect(200);
            id = null;
            // the next run starts on a quiet LXD: wait until the instance is really gone
            awaitGone("/1.0/instances/" + LxdSocket.segment(instanceName));
            return new PlatformTiming(ms(tRunning - t0), ms(tPost - t0), createdMs, startedMs,
                    ms(System.nanoTime() - tDelete), operations);
        } finally {
            if (id != null) {
                try {
                    api.delete("/compute/containers/" + id).expect(200, 404);
                } catch (IOException | RuntimeException e) {
                    OUT.printf("could not delete container %s: %s%n", id, e.getMessage());
                }
            }
        }
    }

    /**
     * When the runtime asked LXD for each operation on the instance, ms since {@code epochStart}, by description
     * (numbered when repeated): LXD keeps finished operations for 5 s and records their creation time only.
     */
    private Map<String, Double> operationsOf(String instanceName, long epochStart) throws IOException {
        Object all = lxd.getOrNull("/1.0/operations?recursion=1");
        List<Object[]> found = new ArrayList<>();
        if (all instanceof Map<?, ?> byStatus) {
            for (Object ops : byStatus.values()) {
                if (!(ops instanceof List<?> list)) continue;
                for (Object op : list) {
                    Object instances = Json.at(op, "resources", "instances");
                    if (!(instances instanceof List<?> l) || !l.contains("/1.0/instances/" + instanceName)) continue;
                    found.add(new Object[] {sinceMs(Json.at(op, "created_at"), epochStart), Json.at(op, "description")});
                }
            }
        }
        found.sort((a, b) -> Double.compare((Double) a[0], (Double) b[0]));
        Map<String, Double> operations = new LinkedHashMap<>();
        for (Object[] op : found) {
            String name = String.valueOf(op[1]);
            for (int k = 2; operations.containsKey(name); k++) name = op[1] + " (" + k + ")";
            operations.put(name, (Double) op[0]);
        }
        return operations;
    }

    private void awaitGone(String path) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (lxd.getOrNull(path) != null) {
            if (System.nanoTime() > deadline) throw new IOException(path + " still there 60 s after the DELETE");
            Thread.sleep(50);
        }
    }

    // ---- raw ------------------------------------------------------------------------------------------------------

    /**
     * The same instance as the LXD runtime makes (LxdRuntime.create/start), through the REST API by hand; with
     * {@code extras}, also the runtime's own extra LXD requests for the mount path and the key.
     */
    private RawTiming rawRun(String name, boolean extras) throws IOException, InterruptedException {
        String volume = name + "-root";
        removeRaw(name, volume); // a leftover of an interrupted run
        if (extras) ensureRawTemplate();
        long t0 = System.nanoTime();
        try {
            if (extras) {
                // what the runtime reads before it creates: no instance yet, the image behind the alias, no volume,
                // the image's seed template for /root (made by the first container of the image)
                lxd.getOrNull("/1.0/instances/" + LxdSocket.segment(name));
                Object target = lxd.getOrNull("/1.0/images/aliases/" + LxdSocket.segment(alias));
                lxd.getOrNull("/1.0/images/" + LxdSocket.segment(String.valueOf(Json.at(target, "target"))));
                lxd.getOrNull(volumePath(volume));
                lxd.getOrNull(volumePath(rawTemplate));
                // the volume: a copy of the template (a btrfs snapshot), then its own config
                lxd.call("POST", "/1.0/storage-pools/" + LxdSocket.segment(pool) + "/volumes/custom",
                        "{\"name\":" + Json.quote(volume) + ",\"type\":\"custom\",\"content_type\":\"filesystem\","
                                + "\"source\":{\"type\":\"copy\",\"pool\":" + Json.quote(pool) + ",\"name\":"
                                + Json.quote(rawTemplate) + "}}");
                lxd.call("PATCH", volumePath(volume), "{\"config\":{\"size\":\"" + storageGb + "GiB\","
                        + "\"user.ecloud.bench.run\":" + Json.quote(runId) + "}}");
            }
            String devices = "\"root\":{\"type\":\"disk\",\"path\":\"/\",\"pool\":" + Json.quote(pool) + ",\"size\":\""
                    + storageGb + "GiB\"}";
            if (extras) {
                devices += ",\"vol-root\":{\"type\":\"disk\",\"pool\":" + Json.quote(pool) + ",\"source\":"
                        + Json.quote(volume) + ",\"path\":\"/root\"}";
            }
            String rawLxc = "lxc.uts.name = " + name + "\nlxc.no_new_privs = 1\n"
                    + "lxc.cap.drop = sys_admin sys_module sys_rawio sys_time\nlxc.mount.auto = cgroup:ro:force\n";
            String body = "{\"name\":" + Json.quote(name) + ",\"type\":\"container\""
                    + ",\"source\":{\"type\":\"image\",\"alias\":" + Json.quote(alias) + "}"
                    + ",\"profiles\":[\"default\"]"
                    + ",\"config\":{\"limits.cpu\":\"" + Math.max(1, (cpuMillis + 999) / 1000) + "\""
                    + ",\"limits.memory\":\"" + memoryMb + "MiB\",\"limits.memory.swap\":\"false\""
                    + ",\"limits.processes\":\"" + pidsLimit + "\",\"raw.lxc\":" + Json.quote(rawLxc)
                    + ",\"user.ecloud.bench.run\":" + Json.quote(runId)
                    + (extras ? ",\"user.ecloud.authorized_keys\":" + Json.quote(publicKey) : "") + "}"
                    + ",\"devices\":{" + devices + "}}";
            lxd.call("POST", "/1.0/instances", body);
            long t1 = System.nanoTime();
            String instancePath = "/1.0/instances/" + LxdSocket.segment(name);
            if (extras) lxd.getOrNull(instancePath); // the runtime's start reads the instance first
            lxd.call("PUT", instancePath + "/state", "{\"action\":\"start\",\"timeout\":30}");
            long t2 = System.nanoTime();
            if (extras) {
                // the copied volume's top directory gets the image's owner and mode (one exec without output)
                lxd.call("POST", instancePath + "/exec", "{\"command\":[\"sh\",\"-c\",\"chown 0:0 /root && chmod 700 /root\"]"
                        + ",\"wait-for-websocket\":false,\"record-output\":false,\"interactive\":false}");
                // authorized_keys: .ssh made (or found), then the file
                push(instancePath, "/root/.ssh", "directory", "0700", new byte[0]);
                push(instancePath, "/root/.ssh/authorized_keys", "file", "0600",
                        (publicKey + "\n").getBytes(StandardCharsets.UTF_8));
            }
            Object state = lxd.getOrNull(instancePath + "/state");
            if (!"Running".equals(Json.at(state, "status"))) {
                throw new IOException(name + " is " + Json.at(state, "status") + " after its start");
            }
            long t3 = System.nanoTime();
            return new RawTiming(ms(t1 - t0), ms(t2 - t1), ms(t3 - t0));
        } finally {
            removeRaw(name, extras ? volume : null);
        }
    }

    /** The raw side's stand-in for the runtime's seed template: a volume to copy new volumes from. */
    private void ensureRawTemplate() throws IOException {
        if (lxd.getOrNull(volumePath(rawTemplate)) != null) return;
        lxd.call("POST", "/1.0/storage-pools/" + LxdSocket.segment(pool) + "/volumes/custom",
                "{\"name\":" + Json.quote(rawTemplate) + ",\"type\":\"custom\",\"content_type\":\"filesystem\","
                        + "\"config\":{\"size\":\"" + storageGb + "GiB\",\"user.ecloud.bench.run\":" + Json.quote(runId) + "}}");
    }

    /** A recorded-output exec to its end, its logs read and deleted (as the runtime's batch exec does). */
    private void exec(String instancePath, String commandJson) throws IOException {
        Object op = lxd.call("POST", instancePath + "/exec", "{\"command\":" + commandJson
                + ",\"wait-for-websocket\":false,\"record-output\":true,\"interactive\":false}");
        for (String fd : List.of("1", "2")) {
            Object log = Json.at(op, "metadata", "output", fd);
            if (log == null) continue;
            lxd.request("GET", log.toString(), null, null, Map.of()).expect(200);
            lxd.request("DELETE", log.toString(), null, null, Map.of());
        }
        // a failed seed is only logged by the runtime (the volume starts empty), so its exit status is not checked
    }

    private void push(String instancePath, String path, String type, String mode, byte[] content) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-LXD-type", type);
        headers.put("X-LXD-uid", "0");
        headers.put("X-LXD-gid", "0");
        headers.put("X-LXD-mode", mode);
        if (type.equals("file")) headers.put("X-LXD-write", "overwrite");
        lxd.request("POST", instancePath + "/files?path=" + path, "application/octet-stream", content, headers)
                .expect(200);
    }

    /** Stops (forced: cleanup is not measured) and deletes a raw instance, and its volume; missing ones are fine. */
    private void removeRaw(String name, String volume) throws IOException {
        String instancePath = "/1.0/instances/" + LxdSocket.segment(name);
        Object instance = lxd.getOrNull(instancePath);
        if (instance != null) {
            if (!"Stopped".equals(Json.at(instance, "status"))) {
                lxd.call("PUT", instancePath + "/state", "{\"action\":\"stop\",\"force\":true,\"timeout\":30}");
            }
            lxd.call("DELETE", instancePath, null);
        }
        if (volume != null && lxd.getOrNull(volumePath(volume)) != null) lxd.call("DELETE", volumePath(volume), null);
    }

    private String volumePath(String volume) {
        return "/1.0/storage-pools/" + LxdSocket.segment(pool) + "/volumes/custom/" + LxdSocket.segment(volume);
    }

    // ---- output ---------------------------------------------------------------------------------------------------

    private void printPhases(List<PlatformTiming> platformRuns, List<RawTiming> rawRuns, List<RawTiming> extraRuns) {
        OUT.println("where the time goes (median ms since the first request; LXD's own created_at / last_used_at and"
                + " its operations' creation times):");
        Map<String, List<Double>> p = new LinkedHashMap<>();
        for (PlatformTiming t : platformRuns) {
            add(p, "POST answered 201 (stored, provisioning queued)", t.postMs());
            add(p, "LXD instance record created (created_at)", t.lxdCreatedMs());
            t.operations().forEach((what, at) -> add(p, "LXD operation requested: " + what, at));
            add(p, "LXD instance started (last_used_at)", t.lxdStartedMs());
            add(p, "API says running", t.runningMs());
            add(p, "(DELETE until the instance is gone, not in the figure)", t.deleteMs());
        }
        OUT.println("  platform:");
        // in the order things happened (the DELETE, last in the map, stays last)
        List<String> order = new ArrayList<>(p.keySet());
        if (!order.isEmpty()) {
            String delete = order.remove(order.size() - 1);
            order.sort((a, b) -> Double.compare(Stats.median(p.get(a)), Stats.median(p.get(b))));
            order.add(delete);
        }
        for (String k : order) OUT.printf("    %-60s %8s%n", k, fmt(Stats.median(p.get(k))));
        for (List<RawTiming> runs : List.of(rawRuns, extraRuns)) {
            if (runs.isEmpty()) continue;
            Map<String, List<Double>> r = new LinkedHashMap<>();
            for (RawTiming t : runs) {
                add(r, runs == extraRuns ? "reads, volume, create + wait" : "create + wait", t.createMs());
                add(r, "start + wait", t.startMs());
                add(r, runs == extraRuns ? "owner/mode exec, keys, state Running" : "GET state Running", t.totalMs()
                        - t.createMs() - t.startMs());
                add(r, "total", t.totalMs());
            }
            OUT.println(runs == extraRuns ? "  raw+extras (durations):" : "  raw (durations):");
            r.forEach((k, v) -> OUT.printf("    %-60s %8s%n", k, fmt(Stats.median(v))));
        }
    }

    private static void printSample(String what, List<Double> ms) {
        OUT.printf("%-12s p50 %6s ms, p90 %6s ms, mean %6s ms, min %6s, max %6s (n=%d)%n", what + ":",
                fmt(Stats.median(ms)), fmt(Stats.percentile(ms, 0.9)), fmt(mean(ms)),
                fmt(ms.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN)),
                fmt(ms.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN)), ms.size());
    }

    private static String triple(List<Double> ms) {
        return fmt(Stats.median(ms)) + " / " + fmt(Stats.percentile(ms, 0.9)) + " / " + fmt(mean(ms)) + " ms";
    }

    private static double mean(List<Double> ms) {
        return ms.stream().filter(d -> !d.isNaN()).mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    private static void add(Map<String, List<Double>> m, String key, double v) {
        m.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
    }

    /** ms from {@code epochStart} to an RFC 3339 time of LXD; NaN when absent or LXD's zero time. */
    private static double sinceMs(Object rfc3339, long epochStart) {
        if (rfc3339 == null) return Double.NaN;
        try {
            Instant t = Instant.parse(rfc3339.toString());
            if (t.getEpochSecond() <= 0) return Double.NaN;
            return (t.getEpochSecond() * 1_000_000_000L + t.getNano() - epochStart) / 1e6;
        } catch (DateTimeParseException e) {
            return Double.NaN;
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String fmt(double ms) {
        return Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.0f", ms);
    }
}
