package com.ecloud.compute.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static com.ecloud.compute.bench.Figures.fmt2;
import static com.ecloud.compute.bench.Figures.pair;
import static com.ecloud.compute.bench.Figures.printQuantiles;
import static com.ecloud.compute.bench.Figures.ratio;

/**
 * The SSH gateway benchmark, against a platform that bench/ssh.sh started with its gateway on a free port, on one
 * running BusyBox container with SSH enabled and an ECDSA key of the user:
 *
 * <ol>
 * <li>bulk throughput: {@code ssh <id>@127.0.0.1 'cat /dev/zero' | head -c 256M > /dev/null} against
 * {@code docker exec <engine name> cat /dev/zero | head -c 256M > /dev/null} on the same container, interleaved
 * (the order alternates), the time until head has all the bytes; then the client must end by itself (the
 * gateway should end the exec when ssh says it can write no more), and no {@code cat} may be left in the
 * container once the client is gone (the gateway ends the exec when the channel closes).</li>
 * <li>connection set-up: {@code ssh <id>@127.0.0.1 true} against {@code docker exec <engine name> true}, no
 * connection sharing, a private known_hosts.</li>
 * </ol>
 *
 * Both sides run through bash, timed inside it ({@code $EPOCHREALTIME}); CPU time of the client processes (bash's
 * {@code times}), of the platform's JVM and of dockerd is recorded per run, to tell where the time goes. The
 * container is deleted at the end (ssh.sh removes whatever an interrupted run left).
 */
public final class SshBench {

    private static final PrintStream OUT = System.out;
    private static final Duration RUN_LIMIT = Duration.ofSeconds(120);
    /** How long a {@code cat} may stay in the container after its client went away before it counts as left over. */
    private static final Duration LEFTOVER_WAIT = Duration.ofSeconds(3);
    /** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux). */
    private static final double TICKS = 100.0;
    /** 50 ms checks whether the producer ended by itself once head closed the pipe (3 s). */
    private static final int PRODUCER_GRACE_CHECKS = 60;
    private static final Pattern TIMES = Pattern.compile("(\\d+)m([\\d.]+)s\\s+(\\d+)m([\\d.]+)s");

    /** One pipeline run: wall ms, exit statuses of its commands, CPU seconds of the client side, JVM, dockerd. */
    record Run(double ms, String statuses, double clientCpu, double platformCpu, double dockerdCpu, String stderr) {
        double mbPerSecond(long bytes) {
            return bytes / 1e6 / (ms / 1000);
        }
    }

    private final Options options;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Path work;
    private final long platformPid;
    private final long dockerdPid;
    private String sshTarget;
    private String engineName;
    /** The stderr of the last {@link #timed} run. */
    private String lastStderr = "";

    private SshBench(Options options) {
        this.options = options;
        this.work = Path.of(options.require("work-dir"));
        this.platformPid = Long.parseLong(options.get("platform-pid", "0"));
        this.dockerdPid = Long.parseLong(options.get("dockerd-pid", "0"));
    }

    public static void main(String[] args) throws Exception {
        // interrupted (ssh.sh's trap stops this JVM): no pipeline of ours keeps running
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly)));
        System.exit(new SshBench(Options.parse(args)).run());
    }

    private int run() throws Exception {
        String api = options.require("api");
        String loadAtStart = Bench.loadAverage();
        OUT.printf("ecloud compute SSH gateway benchmark, %s%n", Instant.now());
        OUT.printf("host: %d CPUs, load average at start %s; %s%n", Runtime.getRuntime().availableProcessors(),
                loadAtStart, shell("ssh -V 2>&1").trim());
        OUT.printf("platform: %s, SSH gateway 127.0.0.1:%s (its own data directory, started by ssh.sh)%n%n", api,
                options.require("ssh-port"));

        PlatformApi user = new PlatformApi(http, api, options.require("token"));
        String publicKey = Files.readString(Path.of(options.require("ssh-key") + ".pub"), StandardCharsets.UTF_8)
                .trim();
        long key = user.sshKey(publicKey);
        user.deleteAll();
        String id = user.createRunningBusybox(key, "ssh");
        try {
            user.put("/compute/containers/" + id + "/ssh", "{\"ssh_enabled\":true}").expect(200, 204);
            engineName = "ecloud-" + id;
            sshTarget = id + "@127.0.0.1";
            OUT.printf("container %s (engine %s): ecloud/busybox:latest on tiny, running, ssh_enabled; the API's"
                    + " ssh_command: %s%n", id, engineName,
                    user.get("/compute/containers/" + id).json().get("ssh_command"));
            OUT.printf("client key: %s; negotiated: %s%n%n", publicKey.split("\\s+")[0], negotiated());
            Throughput throughput = throughput();
            Setup setup = connectionSetup();
            printSummary(throughput, setup, loadAtStart);
            return throughput.failures() + setup.failures() + throughput.leftovers() + throughput.platformHung() > 0
                    ? 2 : 0;
        } finally {
            user.delete("/compute/containers/" + id).expect(200, 404);
        }
    }

    // ---- 1. throughput ---------------------------------------------------------------------------------------

    /** Diagnostic: the platform's median with the client forced to one cipher. */
    record CipherFigure(String cipher, double mbPerSecond, int runs) {
    }

    record Throughput(long bytes, List<Run> platform, List<Run> direct, int failures, int leftovers,
            List<Double> leftoverMs, List<CipherFigure> ciphers, int platformHung, int directHung) {
        List<Double> mbPerSecond(List<Run> runs) {
            return runs.stream().map(r -> r.mbPerSecond(bytes)).toList();
        }
    }

    private Throughput throughput() throws Exception {
        long bytes = Long.parseLong(options.get("bytes", "268435456"));
        int runs = options.intOption("runs", 5);
        int warmups = options.intOption("warmups", 1);
        String source = zeroSource();
        String viaSsh = ssh("", "'" + source + "'");
        String direct = "docker exec " + engineName + " " + source;
        OUT.printf("== 1. bulk throughput: %d bytes (%d MiB) each, %d runs each after %d warm-up, interleaved (order"
                + " alternates)%n", bytes, bytes >> 20, runs, warmups);
        OUT.printf("   platform: %s | head -c %d > /dev/null%n", viaSsh, bytes);
        OUT.printf("   direct:   %s | head -c %d > /dev/null%n", direct, bytes);
        OUT.println("   time until head has all the bytes; then the client (ssh / docker exec) should end by itself"
                + " (head closed the pipe):");
        OUT.println("   'ended' it did within 3 s, 'killed' it did not and was killed; then no producer may be left in"
                + " the container");
        // the byte count once, through wc (the timed runs write to /dev/null: no extra copy)
        for (String producer : List.of(viaSsh, direct)) {
            String counted = shell(fromProducer(producer) + "head -c " + bytes + " <&3 | wc -c; exec 3<&-; sleep 0.5;"
                    + " kill $p 2>/dev/null; wait $p 2>/dev/null; true").trim();
            if (!counted.equals(Long.toString(bytes))) {
                throw new IOException("'" + producer + "' delivered " + counted + " bytes, not " + bytes);
            }
        }
        OUT.println("   byte count checked through wc -c: both deliver all of it");
        awaitNoProducer(source, false); // docker exec leaves its cat, which the engine keeps draining
        List<Run> platform = new ArrayList<>();
        List<Run> engine = new ArrayList<>();
        List<Double> leftoverMs = new ArrayList<>();
        int failures = 0;
        int leftovers = 0;
        int[] platformHung = new int[1];
        int[] directHung = new int[1];
        for (int i = 0; i < warmups + runs; i++) {
            boolean measured = i >= warmups;
            boolean sshFirst = i % 2 == 0;
            for (int side = 0; side < 2; side++) {
                boolean viaPlatform = (side == 0) == sshFirst;
                Run r = streamed(viaPlatform ? viaSsh : direct, bytes);
                double gone = awaitNoProducer(source, viaPlatform);
                String label = (measured ? "run " + (i - warmups + 1) : "warm-up")
                        + (viaPlatform ? " platform" : " direct  ");
                OUT.printf("   %-20s %8.1f ms %8.1f MB/s  %-8s cpu: client %5.2f s, platform JVM %5.2f s,"
                        + " dockerd %5.2f s; no producer in the container after %s%n", label, r.ms(),
                        r.mbPerSecond(bytes), r.statuses(), r.clientCpu(), r.platformCpu(), r.dockerdCpu(),
                        gone < 0 ? "NOT within " + LEFTOVER_WAIT.toSeconds() + " s (killed)" : fmt2(gone) + " ms");
                if (!r.stderr().isBlank()) OUT.printf("      stderr: %s%n", Json.abbreviate(r.stderr().trim()));
                if (!measured) continue;
                if (!r.statuses().startsWith("0 ")) failures++; // head must succeed
                if (r.statuses().endsWith("killed")) (viaPlatform ? platformHung : directHung)[0]++;
                if (viaPlatform) {
                    platform.add(r);
                    if (gone < 0) leftovers++;
                    else leftoverMs.add(gone);
                } else {
                    engine.add(r);
                }
            }
        }
        double p = Stats.median(platform.stream().map(r -> r.mbPerSecond(bytes)).toList());
        double d = Stats.median(engine.stream().map(r -> r.mbPerSecond(bytes)).toList());
        OUT.printf("platform median %s MB/s, direct median %s MB/s, ratio platform/direct %s (goal >= 0.80: %s)%n",
                fmt2(p), fmt2(d), ratio(p, d), Bench.met(p / d >= 0.8));
        // where the time goes: the same transfer with the client held to one cipher (the client's order decides
        // which of the gateway's ciphers a connection uses)
        List<CipherFigure> ciphers = new ArrayList<>();
        int cipherRuns = options.intOption("cipher-runs", 3);
        for (String cipher : options.get("ciphers", "").trim().split("\\s+")) {
            if (cipher.isEmpty() || cipherRuns <= 0) continue;
            List<Double> mbs = new ArrayList<>();
            for (int i = 0; i < cipherRuns; i++) {
                Run r = streamed(ssh("-c " + cipher, "'" + source + "'"), bytes);
                if (awaitNoProducer(source, true) < 0) leftovers++;
                OUT.printf("   cipher %-24s %8.1f ms %8.1f MB/s  %-8s cpu: client %5.2f s, platform JVM %5.2f s%n",
                        cipher, r.ms(), r.mbPerSecond(bytes), r.statuses(), r.clientCpu(), r.platformCpu());
                if (!r.statuses().startsWith("0 ")) failures++;
                else mbs.add(r.mbPerSecond(bytes));
            }
            ciphers.add(new CipherFigure(cipher, Stats.median(mbs), mbs.size()));
            OUT.printf("   -> %s: median %s MB/s, ratio to direct %s%n", cipher, fmt2(Stats.median(mbs)),
                    ratio(Stats.median(mbs), d));
        }
        Throughput t = new Throughput(bytes, platform, engine, failures, leftovers, leftoverMs, ciphers,
                platformHung[0], directHung[0]);
        OUT.printf("CPU seconds per run (median), platform: client %s, platform JVM %s, dockerd %s;"
                + " direct: client %s, dockerd %s%n", cpu(platform, Run::clientCpu), cpu(platform, Run::platformCpu),
                cpu(platform, Run::dockerdCpu), cpu(engine, Run::clientCpu), cpu(engine, Run::dockerdCpu));
        if (leftovers > 0) OUT.printf("BUG: %d SSH run(s) left the producer running in the container%n", leftovers);
        OUT.println();
        return t;
    }

    /** {@code cat /dev/zero} when BusyBox's cat reads it, else dd. */
    private String zeroSource() throws IOException, InterruptedException {
        String counted = shell("docker exec " + engineName + " cat /dev/zero | head -c 65536 | wc -c").trim();
        if (counted.equals("65536")) return "cat /dev/zero";
        OUT.printf("   (cat /dev/zero gave %s bytes in the container: dd is used instead)%n", counted);
        return "dd if=/dev/zero bs=64k";
    }

    /**
     * Milliseconds until no process running {@code source} is left in the container (polled with ps); -1 when
     * one is still there after {@link #LEFTOVER_WAIT}, which it then kills (so that it does not load the next run: the
 * engine keeps draining the output of an exec whose client went away). docker exec itself leaves its process.
     */
    private double awaitNoProducer(String source, boolean showLeft) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + LEFTOVER_WAIT.toNanos();
        while (true) {
            String ps = shell("docker exec " + engineName + " ps");
            boolean left = ps.lines().anyMatch(l -> l.contains(source));
            if (!left) return (System.nanoTime() - start) / 1e6;
            if (System.nanoTime() > deadline) {
                if (showLeft) OUT.printf("      left in the container:%n%s%n", ps.strip().indent(8).stripTrailing());
                shell("docker exec " + engineName + " killall " + source.split(" ")[0]);
                return -1;
            }
            Thread.sleep(20);
        }
    }

    private static String cpu(List<Run> runs, java.util.function.ToDoubleFunction<Run> what) {
        return fmt2(Stats.median(runs.stream().map(r -> what.applyAsDouble(r)).toList())) + " s";
    }

    // ---- 2. connection set-up ---------------------------------------------------------------------------------

    record Setup(List<Double> platform, List<Double> direct, int failures) {
    }

    private Setup connectionSetup() throws Exception {
        int runs = options.intOption("connects", 30);
        int warmups = options.intOption("connect-warmups", 3);
        String viaSsh = ssh("", "true");
        String direct = "docker exec " + engineName + " true";
        OUT.printf("== 2. connection set-up: %d runs each after %d warm-ups, interleaved (order alternates)%n", runs,
                warmups);
        OUT.printf("   platform: %s%n", viaSsh);
        OUT.printf("   direct:   %s%n", direct);
        List<Double> platform = new ArrayList<>();
        List<Double> engine = new ArrayList<>();
        int failures = 0;
        for (int i = 0; i < warmups + runs; i++) {
            boolean sshFirst = i % 2 == 0;
            for (int side = 0; side < 2; side++) {
                boolean viaPlatform = (side == 0) == sshFirst;
                Run r = timed("t0=$EPOCHREALTIME; " + (viaPlatform ? viaSsh : direct) + "; s=$?; t1=$EPOCHREALTIME");
                if (!r.statuses().equals("0")) {
                    failures++;
                    OUT.printf("   %s exited %s: %s%n", viaPlatform ? "ssh" : "docker exec", r.statuses(),
                            Json.abbreviate(r.stderr().trim()));
                    continue;
                }
                if (i >= warmups) (viaPlatform ? platform : engine).add(r.ms());
            }
        }
        printQuantiles("platform (ssh <id>@127.0.0.1 true)", platform);
        printQuantiles("direct (docker exec <name> true)", engine);
        OUT.printf("ratio platform/direct: p50 %s, p99 %s; failed runs: %d%n%n",
                ratio(Stats.median(platform), Stats.median(engine)),
                ratio(Stats.percentile(platform, 0.99), Stats.percentile(engine, 0.99)), failures);
        return new Setup(platform, engine, failures);
    }

    // ---- running commands -----------------------------------------------------------------------------------

    /** The ssh command line: no config file, no agent, no connection sharing, this run's key and known_hosts. */
    private String ssh(String extraOptions, String remoteCommand) {
        return "ssh " + extraOptions + (extraOptions.isEmpty() ? "" : " ") + "-F /dev/null -p "
                + options.require("ssh-port") + " -i " + options.require("ssh-key")
                + " -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o ControlMaster=no"
                + " -o ControlPath=none -o UserKnownHostsFile=" + work.resolve("known_hosts")
                + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=accept-new -o LogLevel=ERROR "
                + sshTarget + " " + remoteCommand;
    }

    /** kex, host key, cipher and MAC the client negotiated (from ssh -v). */
    private String negotiated() throws IOException, InterruptedException {
        String verbose = shell(ssh("", "true").replace("-o LogLevel=ERROR", "-v") + " 2>&1");
        List<String> found = new ArrayList<>();
        for (String pattern : List.of("kex: algorithm: (\\S+)", "kex: host key algorithm: (\\S+)",
                "kex: server->client cipher: (\\S+) MAC: (\\S+)")) {
            Matcher m = Pattern.compile(pattern).matcher(verbose);
            if (m.find()) found.add(m.groupCount() == 2 ? m.group(1) + " MAC " + m.group(2) : m.group(1));
        }
        return found.isEmpty() ? "? (ssh -v said: " + Json.abbreviate(verbose.trim()) + ")" : String.join(", ", found);
    }

    /** Starts {@code producer} with its output on fd 3 of the script and its pid in $p. */
    private static String fromProducer(String producer) {
        return "exec 3< <(exec " + producer + "); p=$!\n";
    }

    /**
     * {@code head -c bytes} reading from {@code producer}, timed until head has all of it; statuses are head's exit
     * status and whether the producer then ended by itself within {@link #PRODUCER_GRACE_CHECKS} x 50 ms of head
     * closing the pipe ("ended"), or had to be killed ("killed": an ssh client whose channel the gateway keeps
     * open). The producer does not hold up the time: head's end is when the data was delivered.
     */
    private Run streamed(String producer, long bytes) throws IOException, InterruptedException {
        return timed(fromProducer(producer) + "t0=$EPOCHREALTIME; head -c " + bytes + " <&3 > /dev/null; h=$?;"
                + " t1=$EPOCHREALTIME; exec 3<&-\n"
                + "e=killed; for _ in $(seq 1 " + PRODUCER_GRACE_CHECKS + "); do"
                + " kill -0 $p 2>/dev/null || { e=ended; break; }; sleep 0.05; done\n"
                + "[ $e = killed ] && kill $p; wait $p 2>/dev/null; s=\"$h $e\"");
    }

    /**
     * Runs a bash script that sets t0 and t1 ($EPOCHREALTIME) and s (statuses); client CPU is what bash's children
     * used (times), platform and dockerd CPU from /proc around it.
     */
    private Run timed(String body) throws IOException, InterruptedException {
        String script = body + "\necho \"$t0 $t1\"; echo \"$s\"; times";
        double platformBefore = cpuSeconds(platformPid);
        double dockerdBefore = cpuSeconds(dockerdPid);
        String[] out = shell(script, true).split("\\R");
        double platformCpu = cpuSeconds(platformPid) - platformBefore;
        double dockerdCpu = cpuSeconds(dockerdPid) - dockerdBefore;
        String[] t = out[0].trim().split("\\s+");
        double ms = (Double.parseDouble(t[1]) - Double.parseDouble(t[0])) * 1000;
        Matcher children = TIMES.matcher(out.length > 3 ? out[3] : "");
        double clientCpu = children.find() ? minutes(children.group(1), children.group(2))
                + minutes(children.group(3), children.group(4)) : Double.NaN;
        return new Run(ms, out[1].trim(), clientCpu, platformCpu, dockerdCpu, lastStderr);
    }

    private static double minutes(String m, String s) {
        return Integer.parseInt(m) * 60 + Double.parseDouble(s);
    }

    /** user + system CPU seconds of a process so far (0 when unknown). */
    private static double cpuSeconds(long pid) {
        if (pid <= 0) return 0;
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS; // fields 14 and 15 of stat
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private String shell(String script) throws IOException, InterruptedException {
        return shell(script, false);
    }

    /** Runs a bash script (bounded), returns its stdout; its stderr goes to {@link #lastStderr}. */
    private String shell(String script, boolean keepStderr) throws IOException, InterruptedException {
        Path stdout = work.resolve("stdout");
        Path stderr = work.resolve("stderr");
        Process p = new ProcessBuilder("bash", "-c", script).redirectInput(Path.of("/dev/null").toFile())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        if (!p.waitFor(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new IOException("still running after " + RUN_LIMIT.toSeconds() + " s: " + script);
        }
        if (keepStderr) lastStderr = Files.readString(stderr, StandardCharsets.UTF_8);
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    // ---- output ---------------------------------------------------------------------------------------------

    private static void printSummary(Throughput t, Setup s, String loadAtStart) {
        OUT.printf("== Summary (load average at start %s, at end %s)%n", loadAtStart, Bench.loadAverage());
        String format = "%-60s %-22s %-12s %s%n";
        OUT.printf(format, "figure", "value", "goal", "met");
        List<Double> p = t.mbPerSecond(t.platform());
        List<Double> d = t.mbPerSecond(t.direct());
        double r = Stats.median(p) / Stats.median(d);
        OUT.printf(format, "throughput ssh cat /dev/zero | head (median, n=" + p.size() + ")", mb(Stats.median(p)),
                "", "");
        OUT.printf(format, "throughput docker exec cat /dev/zero | head (median, n=" + d.size() + ")",
                mb(Stats.median(d)), "", "");
        OUT.printf(format, "throughput ratio platform/direct", fmt2(r), ">= 0.80", Bench.met(r >= 0.8));
        for (CipherFigure c : t.ciphers()) {
            OUT.printf(format, "  (diagnostic) ssh -c " + c.cipher() + " (median, n=" + c.runs() + ")",
                    mb(c.mbPerSecond()) + " = " + ratio(c.mbPerSecond(), Stats.median(d)) + "x", "", "");
        }
        OUT.printf(format, "ssh clients not ended 3 s after head closed the pipe", t.platformHung() + " of "
                + p.size(), "0", Bench.met(t.platformHung() == 0));
        OUT.printf(format, "docker exec clients not ended 3 s after head closed the pipe", t.directHung() + " of "
                + d.size(), "", "");
        OUT.printf(format, "producers left in the container after ssh runs", Integer.toString(t.leftovers()), "0",
                Bench.met(t.leftovers() == 0));
        OUT.printf(format, "  ... gone after the ssh client ended (p50 / p99)", pair(t.leftoverMs()), "", "");
        OUT.printf(format, "connection set-up ssh true p50 / p99 (n=" + s.platform().size() + ")",
                pair(s.platform()), "", "");
        OUT.printf(format, "connection set-up docker exec true p50 / p99 (n=" + s.direct().size() + ")",
                pair(s.direct()), "", "");
        OUT.printf(format, "connection set-up ratio platform/direct (p50)",
                ratio(Stats.median(s.platform()), Stats.median(s.direct())), "", "");
        OUT.printf(format, "failed runs", Integer.toString(t.failures() + s.failures()), "0",
                Bench.met(t.failures() + s.failures() == 0));
    }

    private static String mb(double mbPerSecond) {
        return String.format(Locale.ROOT, "%.1f MB/s", mbPerSecond);
    }
}
