package com.ecloud.compute.itest.harness;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the Docker engine really runs, asked through the docker CLI (independent of the platform's own client). */
public final class Docker {

    /** Labels the platform puts on its engine containers. */
    public static final String MANAGED_LABEL = "ecloud.managed";
    public static final String ID_LABEL = "ecloud.container.id";
    public static final String OWNER_LABEL = "ecloud.owner";

    // The client on PATH may be newer than the daemon (20.10 = API 1.41): pin the API version, as lib.sh does
    private static final Map<String, String> ENV = Map.of("DOCKER_API_VERSION", "1.41");
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private Docker() {
    }

    public static Command.Result run(String... args) {
        return run(TIMEOUT, args);
    }

    public static Command.Result run(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("docker");
        cmd.addAll(Arrays.asList(args));
        return Command.run(timeout, cmd, ENV);
    }

    /** Whether the engine answers at all. */
    public static boolean answers() {
        try {
            return run(Duration.ofSeconds(20), "info", "--format", "{{.ServerVersion}}").ok();
        } catch (RuntimeException | AssertionError e) {
            return false;
        }
    }

    public static String name(String containerId) {
        return "ecloud-" + containerId;
    }

    /** {@code docker inspect --format} of a container; empty when the engine has no such container. */
    public static Optional<String> inspect(String containerName, String format) {
        Command.Result r = run("inspect", "--type", "container", "--format", format, containerName);
        if (!r.ok()) {
            if (r.stderr().toLowerCase().contains("no such")) return Optional.empty();
            throw new AssertionError(r.describe());
        }
        return Optional.of(r.stdout().strip());
    }

    public static boolean exists(String containerName) {
        return inspect(containerName, "{{.Id}}").isPresent();
    }

    /** The engine's state word (running, exited, created, ...); empty when the container does not exist. */
    public static Optional<String> state(String containerName) {
        return inspect(containerName, "{{.State.Status}}");
    }

    /** Runs a command inside a container and returns its result (not failing on a non-zero exit). */
    public static Command.Result exec(String containerName, String... command) {
        List<String> args = new ArrayList<>(List.of("exec", containerName));
        args.addAll(Arrays.asList(command));
        return run(args.toArray(String[]::new));
    }

    /** stdout of a command inside a container, trimmed; fails when it exits non-zero. */
    public static String execOk(String containerName, String... command) {
        return exec(containerName, command).orFail().strip();
    }

    /** Names of the engine containers the platform manages (running or not) with {@code label=value}. */
    public static List<String> managedNames(String label, String value) {
        String out = run("ps", "-a", "--no-trunc", "--filter", "label=" + MANAGED_LABEL + "=true",
                "--filter", "label=" + label + "=" + value, "--format", "{{.Names}}").orFail();
        return out.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** Names of every engine container the platform manages, on any data directory. */
    public static List<String> allManagedNames() {
        String out = run("ps", "-a", "--no-trunc", "--filter", "label=" + MANAGED_LABEL + "=true", "--format", "{{.Names}}").orFail();
        return out.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** The platform's container id label of an engine container. */
    public static String idLabel(String containerName) {
        return inspect(containerName, "{{index .Config.Labels \"" + ID_LABEL + "\"}}").orElse("");
    }

    /** Host paths bind-mounted into a container. */
    public static List<String> mountSources(String containerName) {
        return inspect(containerName, "{{range .Mounts}}{{.Source}}\n{{end}}").map(s -> s.lines().map(String::strip)
                .filter(l -> !l.isEmpty()).toList()).orElse(List.of());
    }

    /**
     * Removes (force) the platform's containers of these owners, and any managed container whose volumes live
     * under {@code dataDir} (whatever its labels say).
     */
    public static void removeAllOf(Collection<String> owners, Path dataDir) {
        List<String> doomed = new ArrayList<>();
        for (String owner : owners) doomed.addAll(managedNames(OWNER_LABEL, owner));
        String prefix = dataDir.toAbsolutePath().normalize().toString() + "/";
        for (String name : allManagedNames()) {
            if (doomed.contains(name)) continue;
            if (mountSources(name).stream().anyMatch(s -> s.startsWith(prefix))) doomed.add(name);
        }
        if (doomed.isEmpty()) return;
        List<String> args = new ArrayList<>(List.of("rm", "-f", "-v"));
        args.addAll(doomed);
        run(args.toArray(String[]::new));
    }
}
