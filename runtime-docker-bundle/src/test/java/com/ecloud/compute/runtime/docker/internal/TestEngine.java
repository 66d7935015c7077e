package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;

import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;
import com.ecloud.compute.runtime.contract.ExecResult;
import com.ecloud.compute.runtime.contract.RecordingExecListener;

/** What the Docker-specific tests share: the engine check, a configuration, a blocking exec. */
final class TestEngine {

    static final String SOCKET = "/var/run/docker.sock";
    static final String SMALL_IMAGE = "ecloud/busybox:latest-amd64";

    private TestEngine() {
    }

    /** Fails (ECLOUD_REQUIRE_ENGINES=true) or skips when the engine or the small image is missing. */
    static void require() {
        boolean available = Files.exists(Path.of(SOCKET));
        if (available) {
            try {
                Process process = new ProcessBuilder("docker", "image", "inspect", SMALL_IMAGE)
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                available = process.waitFor() == 0;
            } catch (Exception e) {
                available = false;
            }
        }
        if (available) return;
        if (Boolean.parseBoolean(System.getenv(ContainerRuntimeContract.REQUIRE_ENGINES))) {
            fail("the Docker engine with " + SMALL_IMAGE + " is required but missing");
        }
        Assumptions.abort("no Docker engine with " + SMALL_IMAGE);
    }

    static DockerRuntime.Config config(String hostName, String dockerHost, Path storage) {
        return new DockerRuntime.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return DockerRuntime.Config.class;
            }

            @Override
            public String host_name() {
                return hostName;
            }

            @Override
            public String docker_host() {
                return dockerHost;
            }

            @Override
            public String api_version() {
                return "1.41";
            }

            @Override
            public String storage_dir() {
                return storage.toString();
            }

            @Override
            public int pids_limit() {
                return 512;
            }

            @Override
            public int stop_grace_seconds() {
                return 5;
            }

            @Override
            public String[] images_allowed_prefixes() {
                return new String[0];
            }

            @Override
            public String[] registries_pull() {
                return new String[] {"127.0.0.1:5000"};
            }
        };
    }

    static ExecResult exec(ContainerRuntime runtime, String id, String... command) throws Exception {
        RecordingExecListener listener = new RecordingExecListener();
        try (ExecSession session = runtime.exec(id, new ExecSpec(List.of(command), false, 0, 0, Map.of()), listener)) {
            session.closeInput();
            Integer exitCode = listener.awaitExit(Duration.ofSeconds(60));
            assertNotNull(exitCode);
            return new ExecResult(exitCode, listener.stdout(), listener.stderr());
        }
    }

    /** Runs the docker CLI; its output, or an assertion failure naming it. */
    static String docker(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        process.getInputStream().transferTo(out);
        org.junit.jupiter.api.Assertions.assertEquals(0, process.waitFor(), out.toString(java.nio.charset.StandardCharsets.UTF_8));
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}
