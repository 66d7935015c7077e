package com.ecloud.compute.runtime.docker.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.runtime.contract.ContainerRuntimeContract;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;

/**
 * The runtime contract on this host's Docker engine with the builtin images (scripts/build-images.sh), run as a
 * plain JUnit test: the component is constructed directly with a configuration.
 */
class DockerRuntimeContractTest extends ContainerRuntimeContract {

    private static final String SOCKET = "/var/run/docker.sock";
    private static final String CMD_IMAGE = "ecloud-test/with-cmd:amd64";
    private static final Path STORAGE = Path.of("target", "contract-volumes").toAbsolutePath();

    private DockerClient docker;
    private boolean commandImageBuilt;

    @Override
    protected ContainerRuntime createRuntime() throws Exception {
        if (docker == null) prepareEngine();
        return new DockerRuntime(TestEngine.config("contract-test", "unix://" + SOCKET, STORAGE), STORAGE.getParent());
    }

    /** Checks the engine and the images once, and builds the image with a command. */
    private void prepareEngine() {
        requireEngine(Files.exists(Path.of(SOCKET)), "the Docker engine (" + SOCKET + ")");
        docker = DockerClientImpl.getInstance(new DefaultDockerClientConfig.Builder()
                .withDockerHost("unix://" + SOCKET).withApiVersion("1.41").build(),
                new ApacheDockerHttpClient.Builder().dockerHost(URI.create("unix://" + SOCKET)).build());
        boolean reachable;
        try {
            docker.pingCmd().exec();
            reachable = true;
        } catch (RuntimeException e) {
            reachable = false;
        }
        requireEngine(reachable, "a Docker engine answering on " + SOCKET);
        for (Arch arch : requiredArches()) {
            requireEngine(imageExists(smallImage(arch)), "image " + smallImage(arch) + " (scripts/build-images.sh)");
            requireEngine(imageExists(distroImage(arch)), "image " + distroImage(arch) + " (scripts/build-images.sh)");
        }
        buildCommandImage();
    }

    @Override
    protected void disposeRuntime(ContainerRuntime runtime) {
        ((DockerRuntime) runtime).close();
    }

    @Override
    protected void afterSuite() throws IOException {
        if (docker == null) return;
        if (commandImageBuilt) {
            try {
                docker.removeImageCmd(CMD_IMAGE).withForce(true).exec();
            } catch (RuntimeException e) {
                // a later run replaces it
            }
        }
        docker.close();
    }

    @Override
    protected String smallImage(Arch arch) {
        return "ecloud/busybox:latest-" + arch.id();
    }

    @Override
    protected String distroImage(Arch arch) {
        return "ecloud/debian:bookworm-" + arch.id();
    }

    @Override
    protected Set<Arch> requiredArches() {
        // arm64 runs under qemu where binfmt_misc has it: required on CI hosts (ECLOUD_REQUIRE_ENGINES=true)
        Set<Arch> arches = EnumSet.of(Arch.AMD64);
        if (Boolean.parseBoolean(System.getenv(REQUIRE_ENGINES))
                || Files.exists(ArchDetection.BINFMT_MISC.resolve("qemu-aarch64"))) {
            arches.add(Arch.ARM64);
        }
        return arches;
    }

    @Override
    protected Optional<String> imageWithCommand(Arch arch) {
        return arch == Arch.AMD64 && commandImageBuilt ? Optional.of(CMD_IMAGE) : Optional.empty();
    }

    @Override
    protected void removeLeftovers(ContainerRuntime runtime) throws IOException {
        // containers of earlier runs (labelled), then volumes that no container owns any more
        for (Container container : docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(TEST_LABEL, "true")).exec()) {
            String id = container.getLabels().get(DockerRuntime.LABEL_ID);
            if (id != null) runtime.remove(id);
        }
        if (!Files.isDirectory(STORAGE)) return;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(STORAGE)) {
            for (Path dir : dirs) {
                runtime.removeStorage(dir.getFileName().toString());
            }
        }
    }

    private boolean imageExists(String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** The small image with a command of its own: it says so in the log and keeps running. */
    private void buildCommandImage() {
        String helper = docker.createContainerCmd(smallImage(Arch.AMD64)).withCmd("true")
                .withLabels(Map.of(TEST_LABEL, "true")).exec().getId();
        try {
            String[] repoTag = CMD_IMAGE.split(":");
            docker.commitCmd(helper).withRepository(repoTag[0]).withTag(repoTag[1])
                    .withCmd("sh", "-c", "echo ecloud-cmd-ran; exec sleep 2147483647")
                    .exec();
            commandImageBuilt = true;
        } finally {
            docker.removeContainerCmd(helper).withForce(true).exec();
        }
    }
}
