package com.ecloud.compute.runtime.docker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerSpec;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;

/** The engine-level settings of a created container, read back with the docker CLI. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ContainerSettingsTest {

    private static final Path STORAGE = Path.of("target", "settings-volumes").toAbsolutePath();

    private DockerRuntime runtime;
    private final String id = TestIds.next();

    @BeforeEach
    void startRuntime() {
        TestEngine.require();
        runtime = new DockerRuntime(TestEngine.config("settings", "unix://" + TestEngine.SOCKET, STORAGE),
                STORAGE.getParent());
    }

    @AfterEach
    void removeContainer() {
        if (runtime == null) return;
        runtime.remove(id);
        runtime.removeStorage(id);
        runtime.close();
    }

    @Test
    void aMissingImageIsPulledFromTheInternalRegistryOnly() throws Exception {
        String registryImage = "127.0.0.1:5000/samples/busybox:1.0";
        try {
            docker("image", "rm", "-f", registryImage);
        } catch (AssertionError | Exception notThere) {
            // not present: what the test wants
        }
        runtime.create(new ContainerSpec(id, "owner-7", registryImage, Arch.AMD64, 500, 64, 1, List.of(), List.of(),
                Map.of(ContainerRuntimeContract.TEST_LABEL, "true")));
        runtime.start(id);
        assertEquals("x86_64", TestEngine.exec(runtime, id, "uname", "-m").stdout().trim());
        String other = TestIds.next();
        assertThrows(com.ecloud.compute.api.runtime.RuntimeNotFoundException.class, () -> runtime.create(
                new ContainerSpec(other, "owner-7", "registry.example.invalid/x:1", Arch.AMD64, 500, 64, 1, List.of(),
                        List.of(), Map.of(ContainerRuntimeContract.TEST_LABEL, "true"))));
    }

    @Test
    void theContainerIsHardenedAndLimited() throws Exception {
        runtime.create(new ContainerSpec(id, "owner-7", TestEngine.SMALL_IMAGE, Arch.AMD64, 4000, 300, 1,
                List.of("/root"), List.of(), Map.of(ContainerRuntimeContract.TEST_LABEL, "true", "extra", "x")));
        String format = String.join("|", "{{.Name}}", "{{.Config.Hostname}}", "{{.HostConfig.RestartPolicy.Name}}",
                "{{.HostConfig.Init}}", "{{.HostConfig.Privileged}}", "{{json .HostConfig.SecurityOpt}}",
                "{{.HostConfig.CpuPeriod}}", "{{.HostConfig.CpuQuota}}", "{{.HostConfig.Memory}}",
                "{{.HostConfig.MemorySwap}}", "{{.HostConfig.PidsLimit}}", "{{json .HostConfig.CapAdd}}",
                "{{.HostConfig.NetworkMode}}", "{{index .Config.Labels \"ecloud.owner\"}}",
                "{{index .Config.Labels \"ecloud.managed\"}}", "{{index .Config.Labels \"extra\"}}",
                "{{json .Config.Cmd}}", "{{len .HostConfig.Mounts}}");
        List<String> fields = List.of(docker("inspect", "--format", format, "ecloud-" + id).trim().split("\\|"));
        assertEquals(List.of("/ecloud-" + id, id, "unless-stopped", "true", "false", "[\"no-new-privileges:true\"]",
                "100000", "400000", String.valueOf(300L << 20), String.valueOf(300L << 20), "512", "null", "bridge",
                "owner-7", "true", "x", "[\"/bin/sh\",\"-c\",\"" + DockerRuntime.IDLE + "\"]",
                "1"), fields);
    }

    @Test
    void imagesOutsideTheAllowedPrefixesAreRejected() {
        runtime.close();
        DockerRuntime.Config base = TestEngine.config("settings", "unix://" + TestEngine.SOCKET, STORAGE);
        runtime = new DockerRuntime(new DelegatingConfig(base, new String[] {"127.0.0.1:5000/"}), STORAGE.getParent());
        RuntimeRejectedException rejected = assertThrows(RuntimeRejectedException.class, () -> runtime.create(
                new ContainerSpec(id, "owner-7", TestEngine.SMALL_IMAGE, Arch.AMD64, 100, 64, 1, List.of(), List.of(),
                        Map.of())));
        assertTrue(rejected.getMessage().contains("not allowed"), rejected.getMessage());
    }

    private static String docker(String... args) throws Exception {
        return TestEngine.docker(args);
    }

    private record DelegatingConfig(DockerRuntime.Config base, String[] prefixes) implements DockerRuntime.Config {
        @Override
        public Class<? extends java.lang.annotation.Annotation> annotationType() {
            return DockerRuntime.Config.class;
        }

        @Override
        public String host_name() {
            return base.host_name();
        }

        @Override
        public String docker_host() {
            return base.docker_host();
        }

        @Override
        public String api_version() {
            return base.api_version();
        }

        @Override
        public String storage_dir() {
            return base.storage_dir();
        }

        @Override
        public int pids_limit() {
            return base.pids_limit();
        }

        @Override
        public int stop_grace_seconds() {
            return base.stop_grace_seconds();
        }

        @Override
        public String[] images_allowed_prefixes() {
            return prefixes;
        }

        @Override
        public String[] registries_pull() {
            return new String[] {"127.0.0.1:5000"};
        }
    }
}
