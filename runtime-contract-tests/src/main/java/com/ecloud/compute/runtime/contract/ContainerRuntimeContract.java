package com.ecloud.compute.runtime.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.Fingerprint;
import com.ecloud.compute.api.runtime.Health;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.runtime.LogLine;
import com.ecloud.compute.api.runtime.LogRequest;
import com.ecloud.compute.api.runtime.RuntimeEvent;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeState;
import com.ecloud.compute.api.runtime.RuntimeState.Phase;
import com.ecloud.compute.api.runtime.Usage;

/**
 * The contract every {@link ContainerRuntime} passes against its real engine, with real images.
 *
 * <p>A runtime's test subclasses this, creates its runtime in {@link #createRuntime()} and names its test images.
 * Every container the suite creates carries the label {@value #TEST_LABEL}{@code =true} and is removed with its
 * storage after each test, also when the test fails; {@link #removeLeftovers} sweeps what an aborted earlier run
 * left behind.
 *
 * <p>Conventions the suite relies on (each runtime meets them):
 * <ul>
 * <li>The log of a container is what its PID 1 writes: lines written to {@code /proc/1/fd/1} and
 * {@code /proc/1/fd/2} from an exec appear on stdout and stderr of the log.</li>
 * <li>The small image has a POSIX {@code sh} and busybox-like tools: sleep, cat, dd, head, tail, stat -c, stty,
 * md5sum, httpd; and no command of its own but a bare shell (the runtime's idle process keeps it running).</li>
 * </ul>
 * When the engine is missing, {@link #createRuntime()} calls {@link #requireEngine}: the suite fails if
 * {@value #REQUIRE_ENGINES}=true, and is skipped otherwise.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
public abstract class ContainerRuntimeContract {

    /** Environment variable: "true" makes a missing engine (or emulated arch) a failure instead of a skip. */
    public static final String REQUIRE_ENGINES = "ECLOUD_REQUIRE_ENGINES";
    /** Label on every container the suite creates. */
    public static final String TEST_LABEL = "ecloud.test";

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContractTestKeyOne0000000000000000000000 one@test";
    private static final String KEY_2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContractTestKeyTwo0000000000000000000000 two@test";

    private ContainerRuntime runtime;
    private final Set<String> createdIds = ConcurrentHashMap.newKeySet();
    private final List<AutoCloseable> openHandles = new CopyOnWriteArrayList<>();

    // ------------------------------------------------------------------------------------------------------------
    // What a runtime's test provides
    // ------------------------------------------------------------------------------------------------------------

    /** Creates the runtime under test, connected to the real engine; {@link #requireEngine} when it is missing. */
    protected abstract ContainerRuntime createRuntime() throws Exception;

    /** Releases the runtime as a bundle stop would (its containers must keep running). */
    protected abstract void disposeRuntime(ContainerRuntime runtime) throws Exception;

    /** The small image (busybox-like, without a command of its own) for {@code arch}. */
    protected abstract String smallImage(Arch arch);

    /** A distribution image (e.g. Debian) for {@code arch}, with a non-empty {@code /root}. */
    protected abstract String distroImage(Arch arch);

    /**
     * The arches the host must offer. Tests for an emulated arch run only when it is listed here or the
     * fingerprint offers it.
     */
    protected abstract Set<Arch> requiredArches();

    /**
     * An image for {@code arch} with a command of its own, which writes the line {@code ecloud-cmd-ran} to
     * stdout and keeps running; empty to skip that test.
     */
    protected Optional<String> imageWithCommand(Arch arch) {
        return Optional.empty();
    }

    /**
     * Whether the log tells stderr from stdout. An engine that keeps the main process's output as one terminal
     * stream (LXD's console) cannot: its lines are all stdout, in the order written.
     */
    protected boolean logsTellStderrApart() {
        return true;
    }

    /**
     * Whether an exposed endpoint passes a half-close (end of input) on while the answer still flows back. LXD 5.0's
     * proxy devices close both directions instead (fixed upstream in LXD 6); whole request/answer exchanges work.
     */
    protected boolean exposePassesHalfClose() {
        return true;
    }

    /**
     * What a write past the storage cap fails with: ENOSPC on a filesystem of its own size (loop-file ext4),
     * EDQUOT on a quota (btrfs qgroups of LXD's pool).
     */
    protected String storageFullMessage() {
        return "No space left on device";
    }

    /**
     * Whether one cap covers all mount paths together (one filesystem of {@code storageGb} holds them all), or each
     * mount path has a volume of that size (LXD 5.0 cannot attach sub-directories of one volume; the platform's
     * periodic storage check enforces the total there).
     */
    protected boolean storageCapCoversAllMountPathsTogether() {
        return true;
    }

    /**
     * Whether the engine's event stream reports the kernel's OOM kills. LXD 5.0's lifecycle events have none.
     */
    protected boolean eventsReportOom() {
        return true;
    }

    /** The pids limit the runtime under test is configured with. */
    protected int expectedPidsLimit() {
        return 512;
    }

    /** Removes every container and storage labelled {@value #TEST_LABEL}=true (leftovers of aborted runs). */
    protected void removeLeftovers(ContainerRuntime runtime) throws Exception {
    }

    /** Called once after all tests, after the runtime was disposed: release what the subclass made. */
    protected void afterSuite() throws Exception {
    }

    /** Fails ({@value #REQUIRE_ENGINES}=true) or skips the suite when {@code available} is false. */
    protected static void requireEngine(boolean available, String what) {
        if (available) return;
        if (Boolean.parseBoolean(System.getenv(REQUIRE_ENGINES))) {
            fail(what + " is required (" + REQUIRE_ENGINES + "=true) but missing");
        }
        Assumptions.abort(what + " is missing; skipping the runtime contract");
    }

    protected final ContainerRuntime runtime() {
        return runtime;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Life of the suite
    // ------------------------------------------------------------------------------------------------------------

    @BeforeAll
    final void startRuntime() throws Exception {
        runtime = createRuntime();
        removeLeftovers(runtime);
    }

    @AfterEach
    final void removeTestContainers() {
        for (AutoCloseable handle : openHandles) {
            try {
                handle.close();
            } catch (Exception e) {
                // best effort: the container goes away below anyway
            }
        }
        openHandles.clear();
        for (String id : createdIds) {
            try {
                runtime.remove(id);
                runtime.removeStorage(id);
            } catch (RuntimeException e) {
                System.err.println("cleanup of " + id + " failed: " + e);
            }
        }
        createdIds.clear();
    }

    @AfterAll
    final void stopRuntime() throws Exception {
        if (runtime == null) return;
        try {
            removeLeftovers(runtime);
        } finally {
            try {
                disposeRuntime(runtime);
            } finally {
                afterSuite();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Fingerprint
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void fingerprintDescribesTheHost() throws Exception {
        Fingerprint fingerprint = awaitDetected();
        assertEquals(runtime.type(), fingerprint.type());
        assertEquals(runtime.host(), fingerprint.host());
        assertEquals(Health.HEALTHY, fingerprint.health(), () -> "unhealthy: " + fingerprint.reason());
        assertNull(fingerprint.reason());
        assertTrue(fingerprint.arches().containsAll(requiredArches()),
                () -> "arches " + fingerprint.arches() + " lack some of " + requiredArches());
        assertTrue(fingerprint.cpus() > 0, "cpus");
        assertTrue(fingerprint.memoryMb() > 0, "memory");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lifecycle
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void lifecycleOperationsAreIdempotent() {
        ContainerSpec spec = spec(Arch.AMD64);
        runtime.create(spec);
        runtime.create(spec);
        String id = spec.containerId();

        RuntimeState created = runtime.inspect(id);
        assertEquals(id, created.containerId());
        assertEquals(Phase.CREATED, created.phase());
        assertNull(created.exitCode());
        assertNull(created.startedAt());

        runtime.start(id);
        runtime.start(id);
        RuntimeState running = runtime.inspect(id);
        assertEquals(Phase.RUNNING, running.phase());
        assertTrue(running.running());
        assertNotNull(running.startedAt());
        assertNull(running.exitCode());

        runtime.stop(id, Duration.ofSeconds(5));
        RuntimeState exited = runtime.inspect(id);
        assertEquals(Phase.EXITED, exited.phase(), "stop returns once the container has stopped");
        assertNotNull(exited.exitCode());
        assertNotNull(exited.finishedAt());
        assertFalse(exited.oomKilled());
        runtime.stop(id, Duration.ofSeconds(5));

        runtime.start(id);
        assertEquals(Phase.RUNNING, runtime.inspect(id).phase(), "a stopped container starts again");

        runtime.remove(id);
        runtime.remove(id);
        assertThrows(RuntimeNotFoundException.class, () -> runtime.inspect(id));
        runtime.removeStorage(id);
        runtime.removeStorage(id);
    }

    @Test
    void unknownContainersAreNotFound() {
        String id = newId();
        assertThrows(RuntimeNotFoundException.class, () -> runtime.inspect(id));
        assertThrows(RuntimeNotFoundException.class, () -> runtime.start(id));
        assertThrows(RuntimeNotFoundException.class, () -> runtime.usage(id));
        assertThrows(RuntimeNotFoundException.class,
                () -> runtime.exec(id, new ExecSpec(List.of("true"), false, 0, 0, Map.of()), new RecordingExecListener()));
        assertThrows(RuntimeNotFoundException.class,
                () -> runtime.logs(id, new LogRequest(10, false), new RecordingLogListener()));
        assertThrows(RuntimeNotFoundException.class, () -> runtime.expose(id, 80));
        assertThrows(RuntimeNotFoundException.class, () -> runtime.writeFile(id, "/tmp/x", new byte[1], 0644));
        runtime.remove(id);
        runtime.removeStorage(id);
    }

    @Test
    void aMissingImageIsNotFound() {
        ContainerSpec spec = spec(Arch.AMD64, "ecloud-contract/no-such-image:none", List.of("/var/data"));
        assertThrows(RuntimeNotFoundException.class, () -> runtime.create(spec));
        assertThrows(RuntimeNotFoundException.class, () -> runtime.inspect(spec.containerId()));
    }

    @Test
    void listShowsEveryContainerInEveryPhase() {
        ContainerSpec running = spec(Arch.AMD64);
        ContainerSpec created = spec(Arch.AMD64);
        runtime.create(running);
        runtime.create(created);
        runtime.start(running.containerId());

        Map<String, Phase> phases = new LinkedHashMap<>();
        for (RuntimeState state : runtime.list()) {
            phases.put(state.containerId(), state.phase());
        }
        assertEquals(Phase.RUNNING, phases.get(running.containerId()), phases::toString);
        assertEquals(Phase.CREATED, phases.get(created.containerId()), phases::toString);
    }

    @Test
    void theIdleProcessKeepsAnImageWithoutCommandRunningAndStopsOnTerm() throws Exception {
        ContainerSpec spec = spec(Arch.AMD64);
        runtime.create(spec);
        runtime.start(spec.containerId());
        Thread.sleep(1500);
        assertEquals(Phase.RUNNING, runtime.inspect(spec.containerId()).phase());

        long began = System.nanoTime();
        runtime.stop(spec.containerId(), Duration.ofSeconds(30));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began);
        assertTrue(seconds < 10, "the idle process must end on SIGTERM, not wait for the kill: " + seconds + " s");
        assertEquals(0, runtime.inspect(spec.containerId()).exitCode());
    }

    @Test
    void theImagesOwnCommandRuns() throws Exception {
        Optional<String> image = imageWithCommand(Arch.AMD64);
        Assumptions.assumeTrue(image.isPresent(), "no image with a command given");
        ContainerSpec spec = spec(Arch.AMD64, image.get(), List.of());
        runtime.create(spec);
        runtime.start(spec.containerId());
        RecordingLogListener log = new RecordingLogListener();
        track(runtime.logs(spec.containerId(), new LogRequest(100, true), log));
        log.awaitLine("ecloud-cmd-ran", WAIT);
        assertEquals(Phase.RUNNING, runtime.inspect(spec.containerId()).phase());
    }

    @Test
    void disposingTheRuntimeEndsItsStreamsButLeavesContainersRunning() throws Exception {
        ContainerSpec spec = spec(Arch.AMD64);
        String id = spec.containerId();
        RecordingLogListener log = new RecordingLogListener();
        RecordingExecListener shell = new RecordingExecListener();
        ContainerRuntime second = createRuntime();
        try {
            second.create(spec);
            second.start(id);
            second.logs(id, new LogRequest(0, true), log);
            second.exec(id, new ExecSpec(List.of("sh", "-c", "echo up; sleep 1240"), false, 0, 0, Map.of()), shell);
            shell.awaitStdout("up", WAIT);
        } finally {
            disposeRuntime(second); // as when the runtime's bundle stops
        }
        assertEquals(Phase.RUNNING, runtime.inspect(id).phase(), "containers outlive their runtime service");
        assertNull(log.awaitEnd(WAIT), "a closed runtime ends its log streams");
        shell.awaitExit(WAIT);
        await(WAIT, () -> processes(id).stream().noneMatch(p -> p.startsWith("sleep 1240")),
                () -> "the exec outlived its runtime: " + processes(id));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Limits and hardening, read from inside
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void limitsAndHardeningApplyInsideTheContainer() throws Exception {
        ContainerSpec spec = new ContainerSpec(newId(), "owner-1", smallImage(Arch.AMD64), Arch.AMD64, 500, 256, 1,
                List.of("/var/data"), List.of(), testLabels());
        String id = createAndStart(spec);

        // cgroup v1 files where the host has v1, the unified files otherwise
        ExecResult limits = exec(id, "sh", "-c", "if [ -f /sys/fs/cgroup/cpu.max ]; then "
                + "cut -d' ' -f1 /sys/fs/cgroup/cpu.max; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; "
                + "else cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/memory/memory.limit_in_bytes "
                + "/sys/fs/cgroup/pids/pids.max; fi");
        assertEquals(0, limits.exitCode(), limits::toString);
        List<String> values = lines(limits.stdout());
        assertEquals(List.of("50000", String.valueOf(256L * 1024 * 1024), String.valueOf(expectedPidsLimit())),
                values, "cpu quota, memory limit, pids limit");

        Map<String, String> status = new LinkedHashMap<>();
        for (String line : lines(exec(id, "cat", "/proc/self/status").stdout())) {
            int colon = line.indexOf(':');
            if (colon > 0) status.put(line.substring(0, colon), line.substring(colon + 1).trim());
        }
        assertEquals("1", status.get("NoNewPrivs"), "no-new-privileges");
        assertEquals("2", status.get("Seccomp"), "a seccomp filter is active");
        long capabilities = Long.parseUnsignedLong(status.get("CapEff"), 16);
        assertEquals(0, capabilities & (1L << 21), "CAP_SYS_ADMIN must not be granted");
        assertEquals(0, capabilities & (1L << 16), "CAP_SYS_MODULE must not be granted");
        assertEquals(spec.containerId(), exec(id, "hostname").stdout().trim(), "hostname is the container id");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Files, keys and storage
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void authorizedKeysAreInstalledForRoot() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        assertEquals(KEY_1 + "\n" + KEY_2 + "\n", exec(id, "cat", "/root/.ssh/authorized_keys").stdout());
        assertEquals(List.of("700 0 0", "600 0 0"), lines(exec(id, "stat", "-c", "%a %u %g", "/root/.ssh",
                "/root/.ssh/authorized_keys").stdout()));
    }

    @Test
    void writeFileCreatesParentsInACreatedOrRunningContainer() throws Exception {
        ContainerSpec spec = spec(Arch.AMD64);
        runtime.create(spec);
        String id = spec.containerId();
        runtime.writeFile(id, "/opt/ecloud/conf/app.txt", "written before start\n".getBytes(StandardCharsets.UTF_8), 0640);
        runtime.writeFile(id, "/tmp/probe.txt", "tmp\n".getBytes(StandardCharsets.UTF_8), 0600);
        runtime.start(id);
        assertEquals("written before start\n", exec(id, "cat", "/opt/ecloud/conf/app.txt").stdout());
        assertEquals(List.of("640 0 0"), lines(exec(id, "stat", "-c", "%a %u %g", "/opt/ecloud/conf/app.txt").stdout()));
        assertEquals(0, exec(id, "test", "-d", "/opt/ecloud/conf").exitCode());
        assertEquals(List.of("1777"), lines(exec(id, "stat", "-c", "%a", "/tmp").stdout()),
                "an existing parent keeps its mode");

        runtime.writeFile(id, "/var/data/sub/run.txt", "while running\n".getBytes(StandardCharsets.UTF_8), 0644);
        assertEquals("while running\n", exec(id, "cat", "/var/data/sub/run.txt").stdout());
        runtime.writeFile(id, "/var/data/sub/run.txt", "replaced\n".getBytes(StandardCharsets.UTF_8), 0644);
        assertEquals("replaced\n", exec(id, "cat", "/var/data/sub/run.txt").stdout());
    }

    @Test
    void storageSurvivesStopStartAndRecreationButNotRemoveStorage() throws Exception {
        ContainerSpec spec = spec(Arch.AMD64);
        String id = createAndStart(spec);
        assertEquals(0, exec(id, "sh", "-c", "echo one > /var/data/f && echo two > /root/f").exitCode());
        String check = "cat /var/data/f /root/f /root/.ssh/authorized_keys";

        runtime.stop(id, Duration.ofSeconds(5));
        runtime.start(id);
        assertEquals("one\ntwo\n" + KEY_1 + "\n" + KEY_2 + "\n", exec(id, "sh", "-c", check).stdout(), "after stop/start");

        runtime.remove(id);
        runtime.create(spec);
        runtime.start(id);
        assertEquals("one\ntwo\n" + KEY_1 + "\n" + KEY_2 + "\n", exec(id, "sh", "-c", check).stdout(), "after re-creation");

        runtime.remove(id);
        assertTrue(runtime.storageIds().contains(id), "storage without its container is listed");
        runtime.removeStorage(id);
        assertFalse(runtime.storageIds().contains(id), "removed storage is not listed");
        runtime.create(spec);
        runtime.start(id);
        assertEquals(1, exec(id, "test", "-e", "/var/data/f").exitCode(), "storage removed");
        assertEquals(1, exec(id, "test", "-e", "/root/f").exitCode(), "storage removed");
    }

    @Test
    void mountPathsAreSeededFromTheImage() throws Exception {
        ContainerSpec plain = spec(Arch.AMD64, distroImage(Arch.AMD64), List.of());
        String plainId = createAndStart(plain);
        List<String> imageRoot = lines(exec(plainId, "ls", "-A", "/root").stdout());
        String imageRootMode = exec(plainId, "stat", "-c", "%a %u", "/root").stdout();
        assertFalse(imageRoot.isEmpty(), "the distro image's /root is expected to hold files");

        ContainerSpec mounted = spec(Arch.AMD64, distroImage(Arch.AMD64), List.of("/root", "/var/data"));
        String id = createAndStart(mounted);
        List<String> volumeRoot = lines(exec(id, "ls", "-A", "/root").stdout());
        assertTrue(volumeRoot.containsAll(imageRoot), () -> volumeRoot + " lacks some of " + imageRoot);
        assertTrue(volumeRoot.contains(".ssh"), () -> volumeRoot.toString());
        assertEquals(imageRootMode, exec(id, "stat", "-c", "%a %u", "/root").stdout());

        // a second container of the same image is seeded alike (a runtime may reuse what it read the first time)
        String second = createAndStart(spec(Arch.AMD64, distroImage(Arch.AMD64), List.of("/root")));
        assertEquals(volumeRoot, lines(exec(second, "ls", "-A", "/root").stdout()));
        assertEquals(imageRootMode, exec(second, "stat", "-c", "%a %u", "/root").stdout());
    }

    @Test
    void storageIsCappedAtStorageGb() throws Exception {
        ContainerSpec spec = new ContainerSpec(newId(), "owner-1", smallImage(Arch.AMD64), Arch.AMD64, 1000, 256, 1,
                List.of("/var/data", "/root"), List.of(), testLabels());
        String id = createAndStart(spec);
        // 1.2 GiB into a 1 GiB volume: dd must stop with ENOSPC (bounded by count)
        ExecResult fill = exec(id, "sh", "-c", "dd if=/dev/zero of=/var/data/big bs=1048576 count=1229 2>&1; echo rc=$?");
        assertTrue(fill.stdout().contains(storageFullMessage()), fill::toString);
        assertFalse(fill.stdout().contains("rc=0"), fill::toString);
        ExecResult other = exec(id, "sh", "-c", "dd if=/dev/zero of=/root/more bs=1048576 count=64 2>&1; echo rc=$?");
        if (storageCapCoversAllMountPathsTogether()) {
            assertTrue(other.stdout().contains(storageFullMessage()), () -> "the cap covers all mount paths together: " + other);
        } else {
            assertTrue(other.stdout().contains("rc=0"), () -> "each mount path has a volume of its own: " + other);
        }
        Usage usage = runtime.usage(id);
        assertTrue(usage.storageUsedBytes() > 900L * 1024 * 1024, () -> "storage used " + usage);
        assertTrue(usage.storageUsedBytes() <= 1024L * 1024 * 1024, () -> "storage used " + usage);
    }

    @Test
    void usageReportsMemoryStorageAndRootfs() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        assertEquals(0, exec(id, "sh", "-c", "dd if=/dev/zero of=/var/data/u bs=1048576 count=8 2>/dev/null && "
                + "dd if=/dev/zero of=/tmp/r bs=1048576 count=4 2>/dev/null && sync").exitCode());
        Usage usage = runtime.usage(id);
        assertTrue(usage.memoryUsedBytes() > 0, () -> usage.toString());
        assertTrue(usage.storageUsedBytes() >= 8L * 1024 * 1024, () -> usage.toString());
        assertTrue(usage.rootfsUsedBytes() >= 4L * 1024 * 1024, () -> usage.toString());
        assertEquals(usage.storageUsedBytes() + usage.rootfsUsedBytes(), usage.diskUsedBytes());

        runtime.stop(id, Duration.ofSeconds(5));
        Usage stopped = runtime.usage(id);
        assertEquals(0, stopped.memoryUsedBytes(), "no memory in use when stopped");
        assertTrue(stopped.storageUsedBytes() >= 8L * 1024 * 1024, () -> stopped.toString());
        assertTrue(stopped.rootfsUsedBytes() >= 4L * 1024 * 1024, () -> stopped.toString());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Logs
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void logsTailThenFollowUntilTheContainerStops() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        Instant before = Instant.now().minusSeconds(5);
        // stdout and stderr are separate pipes that the engine reads apart: pause between them to fix the order
        assertEquals(0, exec(id, "sh", "-c", "echo one > /proc/1/fd/1; sleep 0.3; echo two > /proc/1/fd/2; "
                + "sleep 0.3; echo three > /proc/1/fd/1").exitCode());

        RecordingLogListener all = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(100, false), all));
        assertNull(all.awaitEnd(WAIT), "a log without follow ends normally");
        assertEquals(List.of("one", "two", "three"), all.texts());
        List<LogLine> lines = all.lines();
        assertEquals(logsTellStderrApart() ? List.of(false, true, false) : List.of(false, false, false),
                lines.stream().map(LogLine::stderr).toList(), "stderr flags");
        Instant previous = before;
        for (LogLine line : lines) {
            assertFalse(line.timestamp().isBefore(previous), () -> "timestamps in order: " + lines);
            assertTrue(line.timestamp().isBefore(Instant.now().plusSeconds(5)), () -> "timestamp " + line);
            previous = line.timestamp();
        }
        assertEquals(1, all.endCalls());

        RecordingLogListener tail = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(2, false), tail));
        assertNull(tail.awaitEnd(WAIT));
        assertEquals(List.of("two", "three"), tail.texts(), "the last two lines");

        RecordingLogListener follow = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(1, true), follow));
        follow.awaitLine("three", WAIT);
        exec(id, "sh", "-c", "echo four > /proc/1/fd/1; sleep 0.3; printf 'partial' > /proc/1/fd/2; "
                + "echo ' line' > /proc/1/fd/2");
        follow.awaitLine("four", WAIT);
        follow.awaitLine("partial line", WAIT);
        assertFalse(follow.ended());
        runtime.stop(id, Duration.ofSeconds(5));
        assertNull(follow.awaitEnd(WAIT), "the followed log ends when the container stops");
        assertEquals(List.of("three", "four", "partial line"), follow.texts());
    }

    @Test
    void logsOutliveARemovalUntilTheStorageGoes() throws Exception {
        // the platform re-creates engine containers (new mount paths): users see one container and one log
        ContainerSpec spec = spec(Arch.AMD64);
        String id = createAndStart(spec);
        assertEquals(0, exec(id, "sh", "-c", "echo before-1 > /proc/1/fd/1; sleep 0.3; echo before-2 > /proc/1/fd/2")
                .exitCode());
        awaitLog(id, List.of("before-1", "before-2"));
        runtime.remove(id);
        ContainerSpec recreated = new ContainerSpec(id, spec.ownerId(), spec.image(), spec.arch(), spec.cpuMillis(),
                spec.memoryMb(), spec.storageGb(), List.of("/root"), spec.authorizedKeys(), spec.labels());
        runtime.create(recreated);
        runtime.start(id);
        assertEquals(0, exec(id, "sh", "-c", "echo after > /proc/1/fd/1").exitCode());
        awaitLog(id, List.of("before-1", "before-2", "after"));

        RecordingLogListener all = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(-1, false), all));
        assertNull(all.awaitEnd(WAIT));
        List<LogLine> lines = all.lines();
        assertEquals(logsTellStderrApart() ? List.of(false, true, false) : List.of(false, false, false),
                lines.stream().map(LogLine::stderr).toList(), "stderr flags kept");
        assertFalse(lines.get(2).timestamp().isBefore(lines.get(1).timestamp()), () -> "in order: " + lines);

        RecordingLogListener tail = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(2, false), tail));
        assertNull(tail.awaitEnd(WAIT));
        assertEquals(List.of("before-2", "after"), tail.texts(), "tail spans both engine containers");

        RecordingLogListener follow = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(3, true), follow));
        follow.awaitLine("after", WAIT);
        exec(id, "sh", "-c", "echo later > /proc/1/fd/1");
        follow.awaitLine("later", WAIT);
        assertEquals(List.of("before-1", "before-2", "after", "later"), follow.texts());

        runtime.removeStorage(id);
        runtime.create(spec);
        runtime.start(id);
        RecordingLogListener fresh = new RecordingLogListener();
        track(runtime.logs(id, new LogRequest(-1, false), fresh));
        assertNull(fresh.awaitEnd(WAIT));
        assertEquals(List.of(), fresh.texts(), "the log goes with the storage");
    }

    /** Waits until the whole log reads {@code expected} (the engine writes it a moment after the process). */
    private void awaitLog(String id, List<String> expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            RecordingLogListener log = new RecordingLogListener();
            track(runtime.logs(id, new LogRequest(-1, false), log));
            assertNull(log.awaitEnd(WAIT));
            if (log.texts().equals(expected)) return;
            if (System.nanoTime() > deadline) assertEquals(expected, log.texts(), "log of " + id);
            Thread.sleep(100);
        }
    }

    @Test
    void closingAFollowedLogStopsIt() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        RecordingLogListener follow = new RecordingLogListener();
        Closeable handle = runtime.logs(id, new LogRequest(0, true), follow);
        exec(id, "sh", "-c", "echo first > /proc/1/fd/1");
        follow.awaitLine("first", WAIT);
        handle.close();
        assertNull(follow.awaitEnd(WAIT), "closing ends the stream without an error");
        exec(id, "sh", "-c", "echo after-close > /proc/1/fd/1");
        Thread.sleep(1000);
        assertEquals(List.of("first"), follow.texts());
        assertEquals(1, follow.endCalls());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Exec
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void execPassesOutputStreamsAndExitCode() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        ExecResult result = exec(id, "sh", "-c", "echo out; echo err >&2; exit 7");
        assertEquals(new ExecResult(7, "out\n", "err\n"), result);

        RecordingExecListener env = new RecordingExecListener();
        runtime.exec(id, new ExecSpec(List.of("sh", "-c", "echo $ECLOUD_PROBE"), false, 0, 0,
                Map.of("ECLOUD_PROBE", "value-42")), env);
        assertEquals(0, env.awaitExit(WAIT));
        assertEquals("value-42\n", env.stdout());
        assertEquals(1, env.exitCalls());
    }

    @Test
    void execDeliversBulkOutputOfBothStreamsCompleteAndInOrder() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        // thousands of small writes on both streams, then 4 MiB in one go: a runtime that batches or splits the
        // output must still deliver every byte of each stream, in order
        ExecResult result = exec(id, "sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo \"out $i\"; echo \"err $i\" >&2; "
                + "i=$((i+1)); done; head -c 4194304 /dev/zero | tr '\\0' x");
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            out.append("out ").append(i).append('\n');
            err.append("err ").append(i).append('\n');
        }
        out.append("x".repeat(4 * 1024 * 1024));
        assertEquals(0, result.exitCode(), result.stderr());
        assertEquals(err.toString(), result.stderr());
        assertEquals(out.length(), result.stdout().length());
        assertEquals(out.toString(), result.stdout());
    }

    @Test
    void execForwardsStdinUntilEndOfInput() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        RecordingExecListener listener = new RecordingExecListener();
        ExecSession session = track(runtime.exec(id, new ExecSpec(List.of("cat"), false, 0, 0, Map.of()), listener));
        session.write("hello\n".getBytes(StandardCharsets.UTF_8));
        listener.awaitStdout("hello\n", WAIT);
        session.write("world\n".getBytes(StandardCharsets.UTF_8));
        session.closeInput();
        assertEquals(0, listener.awaitExit(WAIT), "cat ends at end of input");
        assertEquals("hello\nworld\n", listener.stdout());
    }

    @Test
    void execWithTtyHasItsSizeAndResizes() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        RecordingExecListener listener = new RecordingExecListener();
        ExecSession session = track(runtime.exec(id, new ExecSpec(List.of("sh"), true, 80, 24, Map.of("TERM", "xterm")),
                listener));
        askUntil(session, listener, "stty size\n", "24 80");
        session.resize(100, 30);
        askUntil(session, listener, "stty size\n", "30 100");
        session.write("echo $TERM; exit 5\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(5, listener.awaitExit(WAIT));
        assertTrue(listener.stdout().contains("xterm"), listener::stdout);
        assertEquals("", listener.stderr(), "a tty merges stderr into stdout");
    }

    @Test
    void execWithoutCommandRunsALoginShell() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        RecordingExecListener listener = new RecordingExecListener();
        ExecSession session = track(runtime.exec(id, new ExecSpec(List.of(), true, 80, 24, Map.of()), listener));
        session.write("echo ready-$((6*7))\n".getBytes(StandardCharsets.UTF_8));
        listener.awaitStdout("ready-42", WAIT);
        session.write("exit 3\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(3, listener.awaitExit(WAIT));
    }

    @Test
    void closingAnExecLeavesNoProcessBehind() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));

        RecordingExecListener plain = new RecordingExecListener();
        ExecSession plainSession = runtime.exec(id,
                new ExecSpec(List.of("sh", "-c", "trap '' HUP; sleep 1234 & sleep 1235 & echo started; wait"), false, 0, 0,
                        Map.of()), plain); // these ignore a hang-up: they must be killed
        plain.awaitStdout("started", WAIT);

        RecordingExecListener tty = new RecordingExecListener();
        ExecSession ttySession = runtime.exec(id, new ExecSpec(List.of("sh"), true, 80, 24, Map.of()), tty);
        ttySession.write("sleep 1236 &\nsleep 1237 & echo bg-started\n".getBytes(StandardCharsets.UTF_8));
        tty.awaitStdout("bg-started", WAIT);
        assertTrue(processes(id).stream().filter(p -> p.matches("sleep 123[4-7]")).count() == 4,
                () -> "all four sleeps run: " + processes(id));

        plainSession.close();
        ttySession.close();
        plain.awaitExit(WAIT);
        tty.awaitExit(WAIT);
        assertEquals(1, plain.exitCalls());
        assertEquals(1, tty.exitCalls());
        await(WAIT, () -> processes(id).stream().noneMatch(p -> p.startsWith("sleep 123")),
                () -> "orphans left: " + processes(id));
        assertEquals(Phase.RUNNING, runtime.inspect(id).phase(), "closing an exec leaves the container running");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void eventsReportStartDieAndRemove() throws Exception {
        List<RuntimeEvent> events = new CopyOnWriteArrayList<>();
        track(runtime.events(events::add));
        ContainerSpec spec = spec(Arch.AMD64);
        String id = spec.containerId();
        Thread.sleep(500); // the subscription reaches the engine
        runtime.create(spec);
        runtime.start(id);
        await(WAIT, () -> has(events, id, RuntimeEvent.Kind.STARTED), () -> "no STARTED: " + events);
        runtime.stop(id, Duration.ofSeconds(5));
        await(WAIT, () -> has(events, id, RuntimeEvent.Kind.DIED), () -> "no DIED: " + events);
        RuntimeEvent died = events.stream().filter(e -> id.equals(e.containerId()) && e.kind() == RuntimeEvent.Kind.DIED)
                .findFirst().orElseThrow();
        assertEquals(0, died.exitCode(), "the idle process exits 0 on SIGTERM");
        assertEquals(runtime.host(), died.host());
        assertNotNull(died.at());
        runtime.remove(id);
        await(WAIT, () -> has(events, id, RuntimeEvent.Kind.REMOVED), () -> "no REMOVED: " + events);
    }

    @Test
    void exceedingTheMemoryLimitRaisesAnOomEvent() throws Exception {
        Assumptions.assumeTrue(eventsReportOom(), "the engine's event stream has no OOM events");
        List<RuntimeEvent> events = new CopyOnWriteArrayList<>();
        track(runtime.events(events::add));
        ContainerSpec spec = new ContainerSpec(newId(), "owner-1", smallImage(Arch.AMD64), Arch.AMD64, 1000, 128, 1,
                List.of(), List.of(), testLabels());
        String id = createAndStart(spec);
        // tail keeps a 300 MiB "line" in memory: the OOM killer ends it at 128 MiB (no swap beyond the limit)
        ExecResult hog = exec(id, "sh", "-c", "head -c 314572800 /dev/zero | tail > /dev/null");
        assertTrue(hog.exitCode() != 0, hog::toString);
        await(WAIT, () -> has(events, id, RuntimeEvent.Kind.OOM), () -> "no OOM: " + events);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Expose
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void exposeRelaysALoopbackEndpointToThePort() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        assertEquals(0, exec(id, "sh", "-c", "mkdir -p /www && echo hello-expose > /www/index.html && "
                + "dd if=/dev/urandom of=/www/big bs=1024 count=2048 2>/dev/null").exitCode());
        String bigMd5 = exec(id, "sh", "-c", "md5sum /www/big | cut -d' ' -f1").stdout().trim();
        track(runtime.exec(id, new ExecSpec(List.of("httpd", "-f", "-p", "8080", "-h", "/www"), false, 0, 0, Map.of()),
                new RecordingExecListener()));

        HostEndpoint endpoint = runtime.expose(id, 8080);
        assertTrue(InetAddress.getByName(endpoint.host()).isLoopbackAddress(), endpoint::toString);
        assertEquals(endpoint, runtime.expose(id, 8080), "the same endpoint while the container runs");

        String[] page = new String[1];
        await(WAIT, () -> {
            page[0] = httpGet(endpoint, "/index.html");
            return page[0] != null && page[0].contains("hello-expose");
        }, () -> "no page through " + endpoint + ": " + page[0]);

        byte[] big = httpGetBody(endpoint, "/big");
        assertEquals(2048 * 1024, big.length);
        assertEquals(bigMd5, HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(big)));

        runtime.remove(id);
        await(WAIT, () -> httpGet(endpoint, "/index.html") == null, () -> "the relay still answers after remove");
    }

    @Test
    void exposePassesEndOfInputOnAndCarriesManyConnections() throws Exception {
        String id = createAndStart(spec(Arch.AMD64));
        // echoes what it is sent: whole exchanges that need no half-close
        track(runtime.exec(id, new ExecSpec(List.of("nc", "-ll", "-p", "9091", "-e", "cat"), false, 0, 0, Map.of()),
                new RecordingExecListener()));
        HostEndpoint echo = runtime.expose(id, 9091);
        byte[] payload = new byte[300_000];
        new java.util.Random(7).nextBytes(payload);
        await(WAIT, () -> java.util.Arrays.equals(payload, exchange(echo, payload)), () -> "no echo through " + echo);
        // connections side by side, each whole
        List<java.util.concurrent.CompletableFuture<byte[]>> parallel = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            parallel.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> exchange(echo, payload)));
        }
        for (java.util.concurrent.CompletableFuture<byte[]> each : parallel) {
            assertTrue(java.util.Arrays.equals(payload, each.get(60, java.util.concurrent.TimeUnit.SECONDS)),
                    "an echo through a parallel connection");
        }
        if (!exposePassesHalfClose()) return;
        // counts what it is sent until end of input, then answers with the count on the same connection
        track(runtime.exec(id, new ExecSpec(List.of("nc", "-ll", "-p", "9090", "-e", "wc", "-c"), false, 0, 0, Map.of()),
                new RecordingExecListener()));
        HostEndpoint endpoint = runtime.expose(id, 9090);
        String[] answer = new String[1];
        await(WAIT, () -> {
            answer[0] = sendThenHalfClose(endpoint, payload);
            return answer[0] != null && answer[0].trim().equals(Integer.toString(payload.length));
        }, () -> "no count through " + endpoint + ": " + answer[0]);
        for (int i = 0; i < 3; i++) {
            assertEquals(Integer.toString(payload.length), String.valueOf(sendThenHalfClose(endpoint, payload)).trim());
        }
    }

    /** Sends {@code payload} while reading as many bytes back; null on failure. */
    private static byte[] exchange(HostEndpoint endpoint, byte[] payload) {
        try (java.net.Socket socket = new java.net.Socket(endpoint.host(), endpoint.port())) {
            socket.setSoTimeout(20_000);
            java.util.concurrent.CompletableFuture<Void> sent = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    socket.getOutputStream().write(payload);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] answer = socket.getInputStream().readNBytes(payload.length);
            sent.get(20, java.util.concurrent.TimeUnit.SECONDS);
            return answer;
        } catch (Exception e) {
            return null;
        }
    }

    /** Sends {@code payload}, half-closes, and reads the answer until the other side closes; null on failure. */
    private static String sendThenHalfClose(HostEndpoint endpoint, byte[] payload) {
        try (java.net.Socket socket = new java.net.Socket(endpoint.host(), endpoint.port())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(payload);
            socket.shutdownOutput();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Arches
    // ------------------------------------------------------------------------------------------------------------

    @Test
    void amd64RunsNatively() throws Exception {
        String id = createAndStart(spec(Arch.AMD64, distroImage(Arch.AMD64), List.of("/root")));
        assertEquals("x86_64", exec(id, "uname", "-m").stdout().trim());
    }

    @Test
    void arm64RunsWhereTheHostOffersIt() throws Exception {
        Fingerprint fingerprint = awaitDetected();
        if (!fingerprint.arches().contains(Arch.ARM64)) {
            assertFalse(requiredArches().contains(Arch.ARM64), "arm64 is required but not offered");
            Assumptions.abort("this host does not run arm64");
        }
        String id = createAndStart(spec(Arch.ARM64, distroImage(Arch.ARM64), List.of("/root")));
        assertEquals("aarch64", exec(id, "uname", "-m").stdout().trim());
        assertEquals(KEY_1 + "\n" + KEY_2 + "\n", exec(id, "cat", "/root/.ssh/authorized_keys").stdout());
        RecordingExecListener tty = new RecordingExecListener();
        ExecSession session = track(runtime.exec(id, new ExecSpec(List.of(), true, 80, 24, Map.of()), tty));
        session.write("uname -m; exit 4\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(4, tty.awaitExit(WAIT));
        assertTrue(tty.stdout().contains("aarch64"), tty::stdout);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Helpers for subclasses and tests
    // ------------------------------------------------------------------------------------------------------------

    /** A fresh platform-style id: 8 characters of [a-z0-9]. */
    protected static String newId() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder id = new StringBuilder("t");
        for (int i = 1; i < 8; i++) {
            id.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        }
        return id.toString();
    }

    /** Labels every test container carries. */
    protected static Map<String, String> testLabels() {
        return Map.of(TEST_LABEL, "true");
    }

    /** A small-image spec for {@code arch}: 0.5 CPU, 256 MiB, 1 GiB storage on /root and /var/data, two keys. */
    protected final ContainerSpec spec(Arch arch) {
        return spec(arch, smallImage(arch), List.of("/root", "/var/data"));
    }

    protected final ContainerSpec spec(Arch arch, String image, List<String> mountPaths) {
        ContainerSpec spec = new ContainerSpec(newId(), "owner-1", image, arch, 500, 256, 1, mountPaths,
                List.of(KEY_1, KEY_2), testLabels());
        createdIds.add(spec.containerId());
        return spec;
    }

    /** Creates and starts the container, and registers it for removal after the test. */
    protected final String createAndStart(ContainerSpec spec) {
        createdIds.add(spec.containerId());
        runtime.create(spec);
        runtime.start(spec.containerId());
        return spec.containerId();
    }

    /** Runs a command to its end (without a tty) and returns what it produced. */
    protected final ExecResult exec(String containerId, String... command) throws Exception {
        RecordingExecListener listener = new RecordingExecListener();
        try (ExecSession session = runtime.exec(containerId, new ExecSpec(List.of(command), false, 0, 0, Map.of()), listener)) {
            session.closeInput();
            Integer exitCode = listener.awaitExit(Duration.ofSeconds(120));
            assertNotNull(exitCode, "exit code of " + List.of(command));
            return new ExecResult(exitCode, listener.stdout(), listener.stderr());
        }
    }

    /** Command lines of the processes in the container (read from /proc, so any image works). */
    protected final List<String> processes(String containerId) {
        try {
            return lines(exec(containerId, "sh", "-c",
                    "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done").stdout())
                    .stream().map(String::trim).filter(l -> !l.isEmpty()).toList();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Waits for a fingerprint past UNDETECTED. */
    protected final Fingerprint awaitDetected() throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Fingerprint fingerprint = runtime.fingerprint();
        while (fingerprint.health() == Health.UNDETECTED && System.nanoTime() < deadline) {
            Thread.sleep(200);
            fingerprint = runtime.fingerprint();
        }
        return fingerprint;
    }

    protected static void await(Duration timeout, BooleanSupplier condition, java.util.function.Supplier<String> message)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError(message.get());
            Thread.sleep(200);
        }
    }

    private <T extends AutoCloseable> T track(T handle) {
        openHandles.add(handle);
        return handle;
    }

    private static boolean has(List<RuntimeEvent> events, String id, RuntimeEvent.Kind kind) {
        return events.stream().anyMatch(e -> id.equals(e.containerId()) && e.kind() == kind);
    }

    /** Sends {@code input} every second until the output contains {@code expected} (a tty's size lands async). */
    private static void askUntil(ExecSession session, RecordingExecListener listener, String input, String expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!listener.stdout().contains(expected)) {
            if (System.nanoTime() > deadline) throw new AssertionError("no [" + expected + "] in " + listener.stdout());
            session.write(input.getBytes(StandardCharsets.UTF_8));
            Thread.sleep(1000);
        }
    }

    private static List<String> lines(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\r?\n")) {
            if (!line.isEmpty()) lines.add(line);
        }
        return lines;
    }

    /** The response of a GET as text, or null when the endpoint does not answer. */
    private static String httpGet(HostEndpoint endpoint, String path) {
        try {
            return new String(httpGetBody(endpoint, path), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    /** The body of an HTTP/1.0 GET (the server closes the connection at its end). */
    private static byte[] httpGetBody(HostEndpoint endpoint, String path) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), 5000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            byte[] bytes = response.toByteArray();
            for (int i = 0; i + 3 < bytes.length; i++) {
                if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') {
                    String head = new String(bytes, 0, i, StandardCharsets.US_ASCII);
                    if (!head.startsWith("HTTP/1.") || !head.contains(" 200 ")) throw new IOException(head);
                    byte[] body = new byte[bytes.length - i - 4];
                    System.arraycopy(bytes, i + 4, body, 0, body.length);
                    return body;
                }
            }
            throw new IOException("no HTTP response (" + bytes.length + " bytes)");
        }
    }
}
