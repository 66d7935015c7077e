package com.ecloud.compute.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import com.ecloud.compute.itest.harness.Api;
import com.ecloud.compute.itest.harness.Docker;
import com.ecloud.compute.itest.harness.Fixtures;
import com.ecloud.compute.itest.harness.OpenSsh;
import com.ecloud.compute.itest.harness.OperatorKey;
import com.ecloud.compute.itest.harness.PlatformExtension;
import com.ecloud.compute.itest.harness.Poll;

/**
 * Swapping the Docker runtime plugin while the platform serves, as an operator does it: Felix's {@code stop},
 * {@code start} and {@code update} through the operators' shell (real OpenSSH client), under concurrent API
 * requests whose every answer is counted.
 */
class HotSwapIT {

    static final OperatorKey OPERATOR_KEY = OperatorKey.create();
    static final Duration STEP = Duration.ofSeconds(60);

    @RegisterExtension
    static final PlatformExtension platform = new PlatformExtension().config(OperatorKey.PID, OPERATOR_KEY.config());

    static OpenSsh ssh;

    @BeforeAll
    static void client() {
        ssh = OPERATOR_KEY.client();
    }

    static String gogo(String command) {
        return OPERATOR_KEY.gogo(ssh, command);
    }

    @Test
    void theDockerRuntimeIsStoppedUpdatedAndStartedUnderLoad() throws Exception {
        Api alice = platform.get().newUserApi("swap-alice");
        String id = Fixtures.runningBusybox(alice, "kept");
        String bundle = OPERATOR_KEY.bundleId(ssh, "com.ecloud.compute.runtime.docker");

        Map<Integer, AtomicInteger> answers = new ConcurrentHashMap<>();
        Map<Integer, String> examples = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService load = Executors.newFixedThreadPool(3);
        Api reader = alice.withOwnConnections();
        for (int t = 0; t < 3; t++) {
            int thread = t;
            load.execute(() -> {
                while (running.get()) {
                    Api.Resp r = switch (thread) {
                        case 0 -> reader.get("/compute/containers/" + id);
                        case 1 -> reader.get("/compute/containers");
                        default -> reader.get("/compute/containers/" + id + "/ingress");
                    };
                    answers.computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
                    examples.putIfAbsent(r.status(), r.body());
                }
            });
        }
        try {
            gogo("stop " + bundle);
            // the plugin is gone: reads still answer from the store; acting on its container is a clear 503
            Api.Resp stop = alice.post("/compute/containers/" + id + "/stop");
            assertEquals(503, stop.status(), stop.body());
            assertTrue(stop.body().contains("\"error\""), stop.body());
            assertEquals("running", Fixtures.get(alice, id).path("status").asText(), "nothing in the store changed");
            // no other host: a create is told so at once, and nothing is stored
            Api.Resp create = alice.post("/compute/containers", Api.obj("name", "during-swap", "instance_type", "tiny",
                    "image", Fixtures.BUSYBOX, "ssh_key_ids", java.util.List.of(Fixtures.addKey(alice, "swap-key"))));
            assertEquals(503, create.status(), create.body());
            assertTrue(create.body().contains("no healthy amd64 host"), create.body());
            assertEquals(1, Fixtures.list(alice).size(), "nothing stored");
            assertEquals("true", Docker.inspect(Docker.name(id), "{{.State.Running}}").orElseThrow(),
                    "the container keeps running in the engine");

            gogo("start " + bundle);
            Poll.until("the runtime back: a stop of the container works", STEP, Duration.ofMillis(500),
                    () -> alice.post("/compute/containers/" + id + "/stop"), r -> r.status() == 200);
            alice.post("/compute/containers/" + id + "/start").expect(200);
            Fixtures.awaitRunning(alice, id);

            // a new build of the plugin (here: the same jar again), as operators roll one out
            gogo("update " + bundle);
            Poll.until("the updated runtime serving the container", STEP, Duration.ofMillis(500),
                    () -> alice.post("/compute/containers/" + id + "/stop"), r -> r.status() == 200);
        } finally {
            running.set(false);
            load.shutdown();
            assertTrue(load.awaitTermination(60, TimeUnit.SECONDS));
        }
        System.out.println("[itest] answers under load while the runtime was stopped, started and updated: " + answers);
        // every answer under load was a success or a 503 with the JSON error: never a 500, never a hang
        for (Map.Entry<Integer, AtomicInteger> e : answers.entrySet()) {
            assertTrue(e.getKey() == 200 || e.getKey() == 503, "answers " + answers + "; e.g. " + examples);
        }
        assertTrue(answers.getOrDefault(200, new AtomicInteger()).get() > 0, answers::toString);
    }
}
