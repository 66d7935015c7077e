package com.ecloud.compute.frameworktest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

import com.ecloud.compute.frameworktest.ComputeApi.Answer;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The Docker runtime plugin swapped while the platform serves, from inside the framework: {@link Bundle#stop()},
 * {@link Bundle#start()} and {@link Bundle#update(InputStream)} on the runtime's bundle, under concurrent API
 * requests whose every answer is counted. The same story as itest's HotSwapIT, which drives the launched jar
 * through the operators' SSH shell; here nothing stands between the test and the framework.
 */
class HotSwapInFrameworkTest {

    /** The API's name of the builtin BusyBox image; the engine runs it as ecloud/busybox:latest-amd64. */
    static final String BUSYBOX = "ecloud/busybox:latest";
    static final String BUSYBOX_AMD64 = "ecloud/busybox:latest-amd64";
    /** BusyBox on amd64 runs within seconds; the limit only has to end a wait that would never end. */
    static final Duration RUNNING_TIMEOUT = Duration.ofSeconds(90);
    static final Duration RUNTIME_BACK_TIMEOUT = Duration.ofSeconds(60);
    static final int LOAD_THREADS = 3;

    static final DockerEngine engine = new DockerEngine();
    static PlatformInFramework platform;
    static ComputeApi alice;
    /** The container the test made (null until created): removed at the end, whatever happened. */
    static String containerId;

    // The three limits sum to 12 minutes, inside the run's own -runtimeout (15, framework-test.bndrun), so that a
    // hang is reported by JUnit, with its place, and the clean-up still runs.
    @BeforeAll
    @Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = ThreadMode.SEPARATE_THREAD)
    static void platformServing() {
        engine.requireAnswering();
        engine.requireImage(BUSYBOX_AMD64);
        platform = PlatformInFramework.configureAndAwaitReady();
        alice = platform.newUser("swap");
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = ThreadMode.SEPARATE_THREAD)
    void theDockerRuntimeIsStoppedStartedAndUpdatedUnderLoad() throws Exception {
        long keyId = addKey(alice, "swap-key");
        containerId = alice.post("/compute/containers", busybox("kept", keyId)).expect(201).path("id").asText();
        awaitStatus(containerId, "running", RUNNING_TIMEOUT);
        String engineName = "ecloud-" + containerId;
        JsonNode made = engine.inspect(engineName).orElseThrow(() -> new AssertionError("no engine container " + engineName));
        assertEquals(platform.platformId(), made.path("Config").path("Labels").path("ecloud.platform").asText(),
                "the engine container carries this platform's label");
        Bundle runtime = platform.dockerRuntimeBundle();
        assertEquals(Bundle.ACTIVE, runtime.getState(), "the Docker runtime bundle is active to begin with");

        Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
        Map<Integer, String> examples = new ConcurrentHashMap<>();
        AtomicInteger unexplained503 = new AtomicInteger();
        AtomicBoolean loading = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(LOAD_THREADS);
        ComputeApi reader = alice.withOwnConnections();
        List<String> readPaths = List.of(
                "/compute/containers/" + containerId,
                "/compute/containers",
                "/compute/containers/" + containerId + "/ingress");
        for (String path : readPaths) {
            load.execute(() -> {
                while (loading.get()) {
                    Answer a = reader.get(path);
                    answers.computeIfAbsent(a.status(), s -> new AtomicInteger()).incrementAndGet();
                    examples.putIfAbsent(a.status(), "GET " + path + " -> " + a.body());
                    if (a.status() == 503 && !hasJsonError(a)) unexplained503.incrementAndGet();
                }
            });
        }
        try {
            // (1) the plugin goes: reads answer from the store; acting on its container is a clear 503
            runtime.stop();
            assertEquals(Bundle.RESOLVED, runtime.getState());
            Answer stop = alice.post("/compute/containers/" + containerId + "/stop");
            assertEquals(503, stop.status(), stop::toString);
            assertTrue(hasJsonError(stop), () -> "a JSON error: " + stop);
            Answer create = alice.post("/compute/containers", busybox("during-swap", keyId));
            assertEquals(503, create.status(), create::toString);
            assertTrue(hasJsonError(create), () -> "a JSON error: " + create);
            assertEquals("running", containerStatus(containerId), "nothing in the store changed");
            assertEquals(1, alice.get("/compute/containers").expect(200).path("containers").size(), "the refused create stored nothing");
            assertTrue(engineRunning(engineName), "the container keeps running in the engine while its runtime is away");

            // (2) the plugin comes back and serves the container again
            runtime.start();
            Poll.until("the restarted runtime stopping the container (200)", RUNTIME_BACK_TIMEOUT, Duration.ofMillis(500),
                    () -> alice.post("/compute/containers/" + containerId + "/stop"), a -> a.status() == 200);
            assertFalse(engineRunning(engineName), "stopped in the engine");
            alice.post("/compute/containers/" + containerId + "/start").expect(200);
            awaitStatus(containerId, "running", RUNNING_TIMEOUT);
            assertTrue(engineRunning(engineName), "started again in the engine");

            // (3) a new build of the plugin (here: the same jar again), as operators roll one out
            byte[] sameJar = readBundleJar(runtime);
            runtime.update(new ByteArrayInputStream(sameJar));
            assertEquals(Bundle.ACTIVE, runtime.getState(), "an active bundle is started again by its update");
            Poll.until("the updated runtime stopping the container (200)", RUNTIME_BACK_TIMEOUT, Duration.ofMillis(500),
                    () -> alice.post("/compute/containers/" + containerId + "/stop"), a -> a.status() == 200);
            assertEquals("stopped", containerStatus(containerId));
            assertFalse(engineRunning(engineName), "stopped in the engine by the updated runtime");
        } finally {
            loading.set(false);
            load.shutdown();
        }
        // each request times out on its own (ComputeApi.REQUEST_TIMEOUT): the threads end within it
        assertTrue(load.awaitTermination(60, TimeUnit.SECONDS), "the load threads ended");

        Map<Integer, Integer> counts = new TreeMap<>();
        answers.forEach((status, n) -> counts.put(status, n.get()));
        System.out.println("[framework-test] answers under load while the Docker runtime was stopped, started and updated"
                + " (status=count, -1 = no answer): " + counts);
        // never a 500, never a request left without an answer: a success, or a 503 with the JSON error
        for (int status : counts.keySet()) {
            assertTrue(status == 200 || status == 503, () -> "answers " + counts + "; e.g. " + examples);
        }
        assertEquals(0, unexplained503.get(), () -> "503s without a JSON error; e.g. " + examples.get(503));
        assertTrue(counts.getOrDefault(200, 0) > 0, () -> "no 200 among the answers under load: " + counts);
    }

    static boolean hasJsonError(Answer a) {
        try {
            return a.json().path("error").isTextual();
        } catch (AssertionError notJson) {
            return false;
        }
    }

    @AfterAll
    @Timeout(value = 3, unit = TimeUnit.MINUTES, threadMode = ThreadMode.SEPARATE_THREAD)
    static void removeTheContainer() throws Exception {
        try {
            if (containerId == null) return;
            String engineName = "ecloud-" + containerId;
            Bundle runtime = platform.dockerRuntimeBundle();
            // a failure may have left the plugin stopped: the platform's own delete needs it
            if (runtime.getState() != Bundle.ACTIVE) runtime.start();
            Answer deleted = Poll.until("DELETE of container " + containerId, RUNTIME_BACK_TIMEOUT, Duration.ofMillis(500),
                    () -> alice.delete("/compute/containers/" + containerId), a -> a.status() == 200 || a.status() == 404);
            if (deleted.status() == 200) {
                Poll.until("the engine container " + engineName + " gone", RUNTIME_BACK_TIMEOUT, Duration.ofMillis(500),
                        () -> engine.inspect(engineName).isPresent(), present -> !present);
            }
        } finally {
            leaveNothingBehind();
            engine.close();
        }
    }

    /** Whatever the platform could not remove: this platform's engine container, and mounts under its data. */
    private static void leaveNothingBehind() throws IOException, InterruptedException {
        if (platform == null) return;
        if (containerId != null) {
            String engineName = "ecloud-" + containerId;
            boolean ours = engine.inspect(engineName).map(c -> platform.platformId()
                    .equals(c.path("Config").path("Labels").path("ecloud.platform").asText())).orElse(false);
            if (ours && engine.forceRemove(engineName)) {
                System.out.println("[framework-test] removed engine container " + engineName + ", which the platform left behind");
            }
        }
        // the runtime mounts a loop-file volume per container under the data directory; a leftover one would
        // keep target/ from being cleaned
        String prefix = platform.dataDirectory().toString() + "/";
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] fields = line.split(" ");
            if (fields.length > 1 && fields[1].replace("\\040", " ").startsWith(prefix)) mounts.add(fields[1].replace("\\040", " "));
        }
        mounts.sort(Comparator.comparingInt(String::length).reversed());
        for (String mount : mounts) {
            Process umount = new ProcessBuilder("umount", "-l", mount).inheritIO().start();
            if (umount.waitFor(30, TimeUnit.SECONDS)) {
                System.out.println("[framework-test] unmounted " + mount + " (exit " + umount.exitValue() + ")");
            } else {
                umount.destroyForcibly();
            }
        }
    }

    // ---- steps through the API and the engine ---------------------------------------------------------------

    static Map<String, Object> busybox(String name, long keyId) {
        return ComputeApi.object("name", name, "instance_type", "tiny", "image", BUSYBOX, "ssh_key_ids", List.of(keyId));
    }

    static long addKey(ComputeApi api, String name) throws GeneralSecurityException {
        return api.post("/compute/ssh-keys", ComputeApi.object("name", name, "public_key", ed25519PublicKey(name)))
                .expect(201).path("id").asLong();
    }

    static String containerStatus(String id) {
        return alice.get("/compute/containers/" + id).expect(200).path("status").asText();
    }

    /** Polls the container's status; a container that fails while another status is awaited fails the test at once. */
    static void awaitStatus(String id, String status, Duration timeout) {
        String reached = Poll.until("container " + id + " " + status, timeout, Duration.ofMillis(500),
                () -> containerStatus(id), s -> s.equals(status) || s.equals("failed"));
        assertEquals(status, reached, () -> "container " + id + ": " + alice.get("/compute/containers/" + id));
    }

    static boolean engineRunning(String engineName) {
        return engine.inspect(engineName).map(c -> c.path("State").path("Running").asBoolean(false)).orElse(false);
    }

    /** The bytes the bundle was installed from: its location names the jar (a URL, or a plain file path). */
    static byte[] readBundleJar(Bundle bundle) throws IOException, BundleException {
        String location = bundle.getLocation();
        String file = location.startsWith("reference:") ? location.substring("reference:".length()) : location;
        if (file.matches("[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !file.startsWith("file:")) {
            try (InputStream in = URI.create(file).toURL().openStream()) {
                return in.readAllBytes();
            }
        }
        Path jar = file.startsWith("file:") ? Path.of(URI.create(file)) : Path.of(file);
        if (!Files.isRegularFile(jar)) throw new BundleException("the Docker runtime's location is no jar: " + location);
        return Files.readAllBytes(jar);
    }

    /** An OpenSSH {@code ssh-ed25519} public key line, made with the JDK alone. */
    static String ed25519PublicKey(String comment) throws GeneralSecurityException {
        PublicKey key = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic();
        byte[] x509 = key.getEncoded();
        // the X.509 SubjectPublicKeyInfo of an Ed25519 key ends with the 32 raw key bytes
        byte[] raw = Arrays.copyOfRange(x509, x509.length - 32, x509.length);
        byte[] type = "ssh-ed25519".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer blob = ByteBuffer.allocate(4 + type.length + 4 + raw.length);
        blob.putInt(type.length).put(type).putInt(raw.length).put(raw);
        return "ssh-ed25519 " + Base64.getEncoder().encodeToString(blob.array()) + " " + comment + "@framework-test";
    }
}
