package com.ecloud.compute.itest.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real application as a separate process: {@code java -jar ecloud-compute.jar serve} on a fresh data
 * directory and a free port, with its output in {@code target/platform-logs/<name>.log}. It can be stopped
 * with SIGTERM, killed with SIGKILL and started again on the same data directory; {@link #close()} removes
 * every engine container it made for the test's users, unmounts their volumes and deletes the data directory.
 */
public final class PlatformProcess implements AutoCloseable {

    public static final String PLATFORM_PID = "com.ecloud.compute.platform";
    public static final String GATEWAY_PID = "com.ecloud.compute.gateway";
    public static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    /** Short timings so that reconciliation, orphan removal, usage and stops happen within a test. */
    public static final Map<String, String> FAST_PLATFORM = Map.of(
            "reconcile.interval.seconds", "5",
            "orphan.grace.seconds", "5",
            "usage.interval.seconds", "2",
            "stop.grace.seconds", "2");

    private static final HttpClient PROBE = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final Path dataDir;
    private final Path logFile;
    private final int port;
    private final Set<String> owners = new LinkedHashSet<>();
    private Process process;
    private int starts;

    private PlatformProcess(String name, Path dataDir, int port) {
        this.name = name;
        this.dataDir = dataDir;
        this.port = port;
        this.logFile = logsDir().resolve(name + ".log");
    }

    /**
     * A data directory with {@code config} written as {@code etc/<pid>.cfg} files (the platform PID gets
     * {@link #FAST_PLATFORM} unless it is given), not started yet.
     */
    public static PlatformProcess prepare(String name, Map<String, Map<String, String>> config) {
        Path jar = jar();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the application jar " + jar + " does not exist: build the reactor first (mvn install)");
        }
        try {
            Path data = Files.createTempDirectory("ecloud-it-" + name + "-");
            PlatformProcess p = new PlatformProcess(name, data, freePort());
            Map<String, Map<String, String>> all = new LinkedHashMap<>();
            all.put(PLATFORM_PID, FAST_PLATFORM);
            // the ingress gateway on free ports: 80 and 443 at 80 + offset and 443 + offset
            all.put(GATEWAY_PID, Map.of("port.offset", Integer.toString(freeGatewayOffset())));
            all.putAll(config);
            Path etc = data.resolve("etc");
            Files.createDirectories(etc);
            for (Map.Entry<String, Map<String, String>> e : all.entrySet()) {
                StringBuilder text = new StringBuilder("# written by the itest harness\n");
                e.getValue().forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
                Files.writeString(etc.resolve(e.getKey() + ".cfg"), text);
            }
            Files.createDirectories(p.logFile.getParent());
            Files.deleteIfExists(p.logFile);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path jar() {
        return Path.of(System.getProperty("ecloud.jar", "../launcher/target/ecloud-compute.jar")).toAbsolutePath().normalize();
    }

    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static Path logsDir() {
        return Path.of(System.getProperty("ecloud.it.logs", "target/platform-logs")).toAbsolutePath();
    }

    /** An offset at which the gateway's ports 80 and 443 are free on loopback (its rule ports are checked by tests). */
    static int freeGatewayOffset() throws IOException {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 100; attempt++) {
            // every gateway port (80-8999 + offset) below the ephemeral range (32768-), which client sockets use
            int offset = 11000 + random.nextInt(12000);
            if (isFree(80 + offset) && isFree(443 + offset)) return offset;
        }
        throw new IOException("no free ports for the ingress gateway");
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The ingress gateway's port offset of this platform (from its configuration file). */
    public int gatewayOffset() {
        try {
            for (String line : Files.readAllLines(dataDir.resolve("etc").resolve(GATEWAY_PID + ".cfg"))) {
                if (line.startsWith("port.offset=")) return Integer.parseInt(line.substring("port.offset=".length()).trim());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no port.offset in the gateway's configuration");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public String name() {
        return name;
    }

    public Path dataDir() {
        return dataDir;
    }

    public int port() {
        return port;
    }

    public URI base() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    public Path logFile() {
        return logFile;
    }

    /** A user id unique to this run ({@code it-<random>-<label>}), cleaned up by {@link #close()}. */
    public String newUser(String label) {
        String uid = "it-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36) + "-" + label;
        owners.add(uid);
        return uid;
    }

    /** A token of the user's full scope, minted with this data directory's key. */
    public String token(String uid, String... scopes) {
        return Tokens.mint(dataDir, uid, scopes);
    }

    /** An API client for a new user with its full scope. */
    public Api newUserApi(String label) {
        return api(token(newUser(label)));
    }

    public Api api(String token) {
        return new Api(base(), token);
    }

    public Api anonymous() {
        return new Api(base(), null);
    }

    // ---- process control ----------------------------------------------------------------------------------

    /** Starts {@code serve} and waits for GET /readyz = 200. */
    public PlatformProcess start() {
        launch();
        awaitReady(READY_TIMEOUT);
        return this;
    }

    /** Starts {@code serve} without waiting. */
    public void launch() {
        if (alive()) throw new IllegalStateException("already running");
        starts++;
        List<String> cmd = List.of(javaExecutable(), "-jar", jar().toString(), "serve",
                "--data", dataDir.toString(), "--bind", "127.0.0.1", "--port", Integer.toString(port));
        try {
            Files.writeString(logFile, "\n===== itest: start #" + starts + " at " + Instant.now() + ": " + String.join(" ", cmd) + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            process = new ProcessBuilder(cmd)
                    .directory(dataDir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .start();
            // a test JVM that is stopped (e.g. the fork timeout) must not leave a platform serving behind it
            Process started = process;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (started.isAlive()) started.destroyForcibly();
            }, "itest-platform-reaper"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the platform", e);
        }
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for GET /readyz = 200; fails with the log's tail when the process dies or the time runs out. */
    public void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!alive()) {
                throw new AssertionError("the platform exited with " + process.exitValue() + " before it was ready\n" + logTail(80));
            }
            try {
                HttpResponse<String> r = PROBE.send(HttpRequest.newBuilder(base().resolve("/readyz"))
                        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            Poll.sleep(Duration.ofMillis(250));
        }
        throw new AssertionError("the platform was not ready within " + timeout.toSeconds() + " s (last /readyz: " + last + ")\n" + logTail(80));
    }

    /** SIGTERM, then waits for the exit (SIGKILL after 60 s); returns the exit code. */
    public int stop() {
        if (process == null) return -1;
        if (process.isAlive()) process.destroy(); // SIGTERM on Linux
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError("the platform did not exit within 60 s of SIGTERM\n" + logTail(40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        return process.exitValue();
    }

    /** SIGKILL: the process gets no chance to clean up. */
    public void kill() {
        if (process == null) return;
        process.destroyForcibly(); // SIGKILL on Linux
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public String logTail(int lines) {
        try {
            if (!Files.exists(logFile)) return "(no platform log)";
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            List<String> tail = all.subList(Math.max(0, all.size() - lines), all.size());
            return "----- last " + tail.size() + " lines of " + logFile + " -----\n" + String.join("\n", tail) + "\n-----";
        } catch (IOException | RuntimeException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** The platform's log so far (for asserting on what it logged). */
    public String log() {
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- clean-up -----------------------------------------------------------------------------------------

    @Override
    public void close() {
        List<Throwable> problems = new ArrayList<>();
        try {
            if (alive()) stop();
        } catch (Throwable t) {
            problems.add(t);
            kill();
        }
        try {
            if (Docker.answers()) Docker.removeAllOf(owners, dataDir);
        } catch (Throwable t) {
            problems.add(t);
        }
        try {
            unmountAll();
            deleteTree(dataDir);
        } catch (Throwable t) {
            problems.add(t);
        }
        if (!problems.isEmpty()) {
            AssertionError e = new AssertionError("clean-up of " + dataDir + " failed");
            problems.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** Unmounts whatever is mounted under the data directory (the loop-file volumes), deepest first. */
    private void unmountAll() throws IOException {
        String prefix = dataDir.toRealPath().toString() + "/";
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 1) {
                String point = f[1].replace("\\040", " ");
                if (point.startsWith(prefix)) mounts.add(point);
            }
        }
        mounts.sort(Comparator.comparingInt(String::length).reversed());
        for (String m : mounts) {
            Command.Result r = Command.run(Duration.ofSeconds(30), List.of("umount", m));
            if (!r.ok()) Command.run(Duration.ofSeconds(30), List.of("umount", "-l", m));
        }
        // loop devices still backed by files of this directory (a platform that attached them without autoclear)
        Command.Result loops = Command.run(Duration.ofSeconds(30), List.of("losetup", "-a"));
        if (loops.ok()) {
            for (String line : loops.stdout().lines().toList()) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.contains(prefix)) Command.run(Duration.ofSeconds(30), List.of("losetup", "-d", line.substring(0, colon)));
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
