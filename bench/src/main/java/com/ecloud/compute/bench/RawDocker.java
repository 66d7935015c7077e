package com.ecloud.compute.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The baseline: what a hand-written client of the Docker Engine API does to get the same container as the
 * platform's Docker runtime (runtime-docker-bundle DockerRuntime + LoopVolumes), and nothing more: a sparse ext4
 * image file of storage_gb ({@code mkfs.ext4 -q -F -m 0}), loop-mounted {@code nodev,nosuid,noatime}, one
 * subdirectory per mount path, bind-mounted; create with the same HostConfig (CFS quota, memory without swap,
 * pids limit, init, no-new-privileges, restart unless-stopped, bridge network, bounded json-file log) and the
 * same idle command; start; wait until the engine says running.
 */
final class RawDocker {

    static final String LABEL = "ecloud.bench.raw";
    /** Which run made a container: run.sh removes what its run left, and nothing else. */
    static final String RUN_LABEL = "ecloud.bench.run";
    /** The idle command the platform gives an image without a command of its own (DockerRuntime.IDLE). */
    static final String IDLE = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done";
    private static final long GIB = 1024L * 1024 * 1024;
    private static final long MIB = 1024L * 1024;

    /**
     * Milliseconds of each step, from the first byte of the volume to the engine reporting running; seedMs and
     * keysMs are 0 without the platform's extra work.
     */
    record Timing(double volumeMs, double seedMs, double createMs, double keysMs, double startMs, double runningSeenMs,
            double totalMs, String dockerId, long epochStartNanos) {
    }

    private final DockerEngine engine;
    private final Path root;
    private final int pidsLimit;
    private final int stopGraceSeconds;
    private final String labels;

    RawDocker(DockerEngine engine, Path root, String runId, int pidsLimit, int stopGraceSeconds) {
        this.engine = engine;
        this.labels = "{" + Json.quote(LABEL) + ":\"true\"," + Json.quote(RUN_LABEL) + ":" + Json.quote(runId) + "}";
        this.root = root;
        this.pidsLimit = pidsLimit;
        this.stopGraceSeconds = stopGraceSeconds;
    }

    /**
     * @param platformExtras also do the engine work the platform adds to the same container, as DockerRuntime does
     *                       it: seed each mount path with the image's content through a created (never started)
     *                       helper container, and write /root/.ssh/authorized_keys through the archive API
     *                       (HEAD for the deepest existing parent, then a tar PUT)
     */
    Timing createAndStart(String name, String engineImage, String arch, int cpuMillis, int memoryMb, int storageGb,
            List<String> mountPaths, boolean platformExtras, String authorizedKey, long deadlineNanos)
            throws IOException, InterruptedException {
        long epochStart = Bench.epochNanos();
        long t0 = System.nanoTime();

        // the volume, exactly as LoopVolumes.ensure + ensureMounted + seedMountPaths (without the image's content)
        Path dir = root.resolve(name);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(storageGb * GIB);
        }
        run(List.of("mkfs.ext4", "-q", "-F", "-m", "0", "-L", name, image.toString()));
        Path mnt = dir.resolve("mnt");
        Files.createDirectories(mnt);
        run(List.of("mount", "-o", "loop,nodev,nosuid,noatime", image.toString(), mnt.toString()));
        long tVolume = System.nanoTime();
        if (platformExtras) seed(name, engineImage, arch, mnt, mountPaths);
        StringBuilder mounts = new StringBuilder();
        for (String mountPath : mountPaths) {
            Path source = mnt.resolve(mountPath.substring(1));
            if (!Files.isDirectory(source)) {
                Files.createDirectories(source);
                Files.setPosixFilePermissions(source, PosixFilePermissions.fromString(
                        mountPath.equals("/root") ? "rwx------" : "rwxr-xr-x"));
            }
            if (mounts.length() > 0) mounts.append(',');
            mounts.append("{\"Type\":\"bind\",\"Source\":").append(Json.quote(source.toString()))
                    .append(",\"Target\":").append(Json.quote(mountPath)).append('}');
        }
        long t1 = System.nanoTime();

        String body = "{"
                + "\"Image\":" + Json.quote(engineImage)
                + ",\"Hostname\":" + Json.quote(name)
                + ",\"Labels\":" + labels
                + ",\"Cmd\":[\"/bin/sh\",\"-c\"," + Json.quote(IDLE) + "]"
                + ",\"StopTimeout\":" + stopGraceSeconds
                + ",\"HostConfig\":{"
                + "\"CpuPeriod\":100000,\"CpuQuota\":" + (cpuMillis * 100L)
                + ",\"Memory\":" + (memoryMb * MIB) + ",\"MemorySwap\":" + (memoryMb * MIB)
                + ",\"PidsLimit\":" + pidsLimit
                + ",\"Init\":true,\"Privileged\":false,\"SecurityOpt\":[\"no-new-privileges:true\"]"
                + ",\"RestartPolicy\":{\"Name\":\"unless-stopped\"}"
                + ",\"Mounts\":[" + mounts + "]"
                + ",\"NetworkMode\":\"bridge\""
                + ",\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{\"max-size\":\"10m\",\"max-file\":\"3\"}}"
                + "}}";
        String id = (String) engine.post("/containers/create?name=" + DockerEngine.encode(name) + "&platform="
                + DockerEngine.encode("linux/" + arch), body).expect(201).json().get("Id");
        long t2 = System.nanoTime();
        if (platformExtras) writeAuthorizedKeys(id, authorizedKey);
        long tKeys = System.nanoTime();

        engine.post("/containers/" + id + "/start", null).expect(204);
        long t3 = System.nanoTime();

        for (int i = 0; ; i++) {
            Object running = Json.at(engine.get("/containers/" + id + "/json").expect(200).json(), "State", "Running");
            if (Boolean.TRUE.equals(running)) break;
            if (System.nanoTime() > deadlineNanos || i > 100_000) throw new IOException(name + " did not run in time");
            Thread.sleep(10);
        }
        long t4 = System.nanoTime();
        return new Timing(ms(tVolume - t0), ms(t1 - tVolume), ms(t2 - t1), ms(tKeys - t2), ms(t3 - tKeys), ms(t4 - t3),
                ms(t4 - t0), id, epochStart);
    }

    /** DockerRuntime.seedMountPaths: the image's content at each mount path, copied out of a helper container. */
    private void seed(String name, String engineImage, String arch, Path mnt, List<String> mountPaths)
            throws IOException, InterruptedException {
        String helper = name + "-seed";
        engine.delete("/containers/" + helper + "?force=true").expect(204, 404); // as the platform: a leftover first
        String body = "{\"Image\":" + Json.quote(engineImage) + ",\"Cmd\":[\"/never-started\"],\"Labels\":" + labels
                + "}";
        String helperId = (String) engine.post("/containers/create?name=" + DockerEngine.encode(helper) + "&platform="
                + DockerEngine.encode("linux/" + arch), body).expect(201).json().get("Id");
        try {
            for (String mountPath : mountPaths) {
                Path parent = mnt.resolve(mountPath.substring(1)).getParent();
                Files.createDirectories(parent);
                DockerEngine.BinaryReply tar = engine.exchange("GET", "/containers/" + helperId + "/archive?path="
                        + DockerEngine.encode(mountPath), null, null);
                if (tar.status() == 404) continue; // nothing there in the image: an empty directory
                if (tar.status() != 200) throw new IOException("archive " + mountPath + ": " + tar.status());
                run(List.of("tar", "-x", "-p", "--numeric-owner", "-f", "-", "-C", parent.toString()), tar.body());
            }
        } finally {
            engine.delete("/containers/" + helperId + "?force=true").expect(204, 404);
        }
    }

    /** DockerRuntime.writeFile of /root/.ssh/authorized_keys: HEAD up to an existing parent, then a tar PUT. */
    private void writeAuthorizedKeys(String id, String key) throws IOException {
        String base = "/root/.ssh";
        List<String> missing = new java.util.ArrayList<>();
        while (!base.equals("/")) {
            int status = engine.exchange("HEAD", "/containers/" + id + "/archive?path=" + DockerEngine.encode(base),
                    null, null).status();
            if (status == 200) break;
            if (status != 404) throw new IOException("HEAD archive " + base + ": " + status);
            missing.add(0, base);
            base = base.substring(0, base.lastIndexOf('/'));
            if (base.isEmpty()) base = "/";
        }
        String prefix = base.equals("/") ? "/" : base + "/";
        Tar tar = new Tar();
        for (String dir : missing) tar.directory(dir.substring(prefix.length()) + "/", 0700);
        tar.file("/root/.ssh/authorized_keys".substring(prefix.length()), (key + "\n").getBytes(StandardCharsets.UTF_8), 0600);
        int status = engine.exchange("PUT", "/containers/" + id + "/archive?path=" + DockerEngine.encode(base),
                "application/x-tar", tar.finish()).status();
        if (status != 200) throw new IOException("PUT archive: " + status);
    }

    /** Removes the container, unmounts and deletes the volume; missing pieces are fine. */
    void remove(String name) throws IOException, InterruptedException {
        engine.delete("/containers/" + DockerEngine.encode(name) + "?force=true").expect(204, 404);
        Path dir = root.resolve(name);
        Path mnt = dir.resolve("mnt");
        if (isMounted(mnt)) {
            try {
                run(List.of("umount", mnt.toString()));
            } catch (IOException busy) {
                run(List.of("umount", "-l", mnt.toString()));
            }
        }
        if (Files.exists(dir)) deleteTree(dir);
    }

    static boolean isMounted(Path mountPoint) throws IOException {
        String wanted = " " + mountPoint.toAbsolutePath() + " ";
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            if (line.contains(wanted)) return true;
        }
        return false;
    }

    static void run(List<String> command) throws IOException, InterruptedException {
        run(command, new byte[0]);
    }

    static void run(List<String> command, byte[] stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command.get(0) + " did not finish in 120 s");
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + output);
    }

    private static void deleteTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }
}
