package com.ecloud.compute.itest.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * The real OpenSSH client ({@code ssh}, {@code scp}) against the platform's SSH gateway, isolated from the
 * machine's own SSH setup: no ~/.ssh/config ({@code -F /dev/null}), no agent, only the key given with
 * {@code -i} (IdentitiesOnly), a private known_hosts file, BatchMode (never a prompt) and a connect timeout.
 */
public final class OpenSsh {

    /** Upper bound of one ssh/scp run; the commands of these tests take seconds. */
    public static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);

    private final String host;
    private final int port;
    private final Path knownHosts;
    private final String strictHostKeyChecking;

    /** A key pair on disk: {@code privateKey} for {@code ssh -i}, {@code publicLine} for POST /compute/ssh-keys. */
    public record Identity(Path privateKey, String publicLine) {
    }

    /** What a finished ssh/scp run left behind; stdout as bytes (binary payloads) and as text. */
    public record Result(List<String> command, int exitCode, byte[] stdoutBytes, String stderr) {
        public String stdout() {
            return new String(stdoutBytes, StandardCharsets.UTF_8);
        }

        public String describe() {
            String out = stdoutBytes.length > 2000 ? stdout().substring(0, 2000) + "...(" + stdoutBytes.length + " bytes)" : stdout();
            return String.join(" ", command) + "\nexited " + exitCode + "\nstdout: " + out + "\nstderr: " + stderr;
        }
    }

    /** A client that adds unknown host keys to {@code knownHosts} (StrictHostKeyChecking=accept-new). */
    public OpenSsh(String host, int port, Path knownHosts) {
        this(host, port, knownHosts, "accept-new");
    }

    private OpenSsh(String host, int port, Path knownHosts, String strictHostKeyChecking) {
        this.host = host;
        this.port = port;
        this.knownHosts = knownHosts;
        this.strictHostKeyChecking = strictHostKeyChecking;
    }

    public int port() {
        return port;
    }

    public Path knownHosts() {
        return knownHosts;
    }

    /** The same gateway with another known_hosts file. */
    public OpenSsh withKnownHosts(Path file) {
        return new OpenSsh(host, port, file, strictHostKeyChecking);
    }

    /** The same client refusing any host key that is not already in its known_hosts (StrictHostKeyChecking=yes). */
    public OpenSsh strict() {
        return new OpenSsh(host, port, knownHosts, "yes");
    }

    // ---- tools and keys -----------------------------------------------------------------------------------

    /**
     * The programs these tests drive must be on PATH: missing, the tests are skipped, or fail when
     * ECLOUD_REQUIRE_ENGINES=true.
     */
    public static void requireTools(String... programs) {
        for (String program : programs) {
            boolean found = Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator))
                    .anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
            if (found) continue;
            String why = program + " is not installed (needed to test the SSH gateway with the real OpenSSH client)";
            if (Engines.required()) throw new AssertionError(why + " [ECLOUD_REQUIRE_ENGINES=true]");
            Assumptions.abort(why);
        }
    }

    /** A fresh key pair made by ssh-keygen in {@code dir} ({@code type}: ed25519, ecdsa, rsa). */
    public static Identity newKey(Path dir, String name, String type) {
        Path key = dir.resolve(name);
        Command.run(Duration.ofSeconds(60), List.of("ssh-keygen", "-q", "-t", type, "-N", "", "-C", name + "@itest",
                "-f", key.toString())).orFail();
        try {
            return new Identity(key, Files.readString(dir.resolve(name + ".pub")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Identity newKey(Path dir, String name) {
        return newKey(dir, name, "ed25519");
    }

    /** A port on loopback that nobody listens on right now. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until something accepts TCP connections on 127.0.0.1:{@code port}. */
    public static void awaitListening(int port, Duration timeout) {
        Poll.until("127.0.0.1:" + port + " to accept connections", timeout, Duration.ofMillis(250), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return true;
            } catch (IOException e) {
                return false;
            }
        }, ok -> ok);
    }

    /**
     * Waits until a socket listens on {@code port} (per /proc/net/tcp), without connecting to it: a connection
     * to an {@code ssh -L} port opens a channel, which a test may be counting.
     */
    public static void awaitListeningQuietly(int port, Duration timeout) {
        String hexPort = String.format(":%04X", port);
        Poll.until("a socket to listen on port " + port, timeout, Duration.ofMillis(250), () -> {
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                try {
                    for (String line : Files.readAllLines(Path.of(table))) {
                        String[] f = line.trim().split("\\s+");
                        // local_address is f[1] (hex ip:port), st is f[3]: 0A = LISTEN
                        if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) return true;
                    }
                } catch (IOException e) {
                    // no IPv6 table: the other one tells
                }
            }
            return false;
        }, ok -> ok);
    }

    // ---- command lines ------------------------------------------------------------------------------------

    /**
     * The client options shared by ssh and scp. Put them first: for an option given twice, ssh keeps the first.
     */
    public List<String> options(Identity id) {
        return new ArrayList<>(List.of(
                "-F", "/dev/null",
                "-i", id.privateKey().toString(),
                "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none",
                "-o", "BatchMode=yes",
                "-o", "UserKnownHostsFile=" + knownHosts,
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=" + strictHostKeyChecking,
                "-o", "UpdateHostKeys=no",
                "-o", "ConnectTimeout=15"));
    }

    /** {@code ssh <options> -p <port> <user>@<host> <remote...>}; a remote command is one word, as ssh sends it. */
    public List<String> sshCommand(Identity id, String user, List<String> extra, String... remote) {
        List<String> cmd = new ArrayList<>(List.of("ssh"));
        cmd.addAll(options(id));
        cmd.addAll(extra);
        cmd.addAll(List.of("-p", Integer.toString(port), user + "@" + host));
        cmd.addAll(Arrays.asList(remote));
        return cmd;
    }

    /** {@code ssh <user>@<host> <remote>} with nothing on stdin. */
    public Result ssh(Identity id, String user, String... remote) {
        return run(sshCommand(id, user, List.of(), remote), null);
    }

    /** {@code ssh <user>@<host> <remote>} with {@code stdin} sent and then closed (EOF). */
    public Result sshWithInput(Identity id, String user, byte[] stdin, String... remote) {
        return run(sshCommand(id, user, List.of(), remote), stdin);
    }

    /** {@code scp <options> -P <port> <args...>} ({@code remote:path} arguments are {@code <user>@<host>:path}). */
    public Result scp(Identity id, List<String> flags, String... args) {
        List<String> cmd = new ArrayList<>(List.of("scp"));
        cmd.addAll(options(id));
        cmd.addAll(flags);
        cmd.addAll(List.of("-P", Integer.toString(port)));
        cmd.addAll(Arrays.asList(args));
        return run(cmd, null);
    }

    /** {@code <user>@<host>:<path>} for scp. */
    public String remote(String user, String path) {
        return user + "@" + host + ":" + path;
    }

    // ---- processes ----------------------------------------------------------------------------------------

    /** Runs {@code command} to completion within {@link #RUN_TIMEOUT}; {@code stdin} null = /dev/null. */
    public static Result run(List<String> command, byte[] stdin) {
        return run(command, stdin, RUN_TIMEOUT);
    }

    public static Result run(List<String> command, byte[] stdin, Duration timeout) {
        Command.Raw raw = Command.exec(timeout, command, Map.of(), stdin);
        return new Result(raw.command(), raw.exitCode(), raw.stdout(), raw.stderr());
    }

    /**
     * A long-running command (ssh -N -L ..., a server in the container) started in the background, its stdout
     * and stderr going to {@code logFile}; stop it with {@link Background#close()}.
     */
    public static Background start(List<String> command, Path logFile) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            return new Background(command, p, logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
    }

    /** A background ssh process and its output file. */
    public record Background(List<String> command, Process process, Path logFile) implements AutoCloseable {
        public String output() {
            try {
                return Files.exists(logFile) ? Files.readString(logFile, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                return "(cannot read " + logFile + ": " + e + ")";
            }
        }

        public String describe() {
            return String.join(" ", command) + (process.isAlive() ? " (running)" : " (exited " + process.exitValue() + ")")
                    + "\noutput: " + output();
        }

        /** Waits for the exit; returns the exit code, failing when it does not come within {@code timeout}. */
        public int awaitExit(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("still running after " + timeout + ": " + describe());
                }
                return process.exitValue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
