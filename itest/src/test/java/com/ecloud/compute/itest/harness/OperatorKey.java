package com.ecloud.compute.itest.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * An operator's key for the operators' shell of a test's platform, on a free port: its configuration for the
 * platform, and the OpenSSH client that logs in with it.
 *
 * @param keys     directory of the key files and known_hosts
 * @param identity the operator's key
 * @param port     the shell's port
 */
public record OperatorKey(Path keys, OpenSsh.Identity identity, int port) {

    public static final String PID = "com.ecloud.compute.ssh.operator";

    public static OperatorKey create() {
        try {
            Path keys = Files.createTempDirectory("ecloud-operator-keys");
            return new OperatorKey(keys, OpenSsh.newKey(keys, "operator"), OpenSsh.freePort());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shell's configuration: this port, this key only. */
    public Map<String, String> config() {
        return Map.of("port", String.valueOf(port), "authorized.keys", identity.publicLine());
    }

    /** Waits for the shell to listen; the client to it. */
    public OpenSsh client() {
        OpenSsh.requireTools("ssh", "ssh-keygen");
        OpenSsh.awaitListening(port, Duration.ofSeconds(60));
        return new OpenSsh("127.0.0.1", port, keys.resolve("known_hosts"));
    }

    /** Runs one shell command through {@code client} as the operator; its output, failing when it failed. */
    public String gogo(OpenSsh client, String command) {
        OpenSsh.Result r = client.ssh(identity, "operator", command);
        org.junit.jupiter.api.Assertions.assertEquals(0, r.exitCode(), r::describe);
        return r.stdout();
    }

    /** The id of the bundle with this symbolic name, from Felix's {@code lb -s}. */
    public String bundleId(OpenSsh client, String symbolicName) {
        for (String line : gogo(client, "lb -s").split("\n")) {
            String[] columns = line.trim().split("\\s*\\|");
            if (columns.length >= 4 && columns[3].trim().startsWith(symbolicName + " ")) return columns[0].trim();
        }
        throw new AssertionError("no bundle " + symbolicName + " in lb -s");
    }
}
