package com.ecloud.compute.itest.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived command to completion and captures what it printed. */
public final class Command {

    /** What a finished command left behind. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** stdout, failing with everything the command said when it did not exit 0. */
        public String orFail() {
            if (exitCode != 0) throw new AssertionError(describe());
            return stdout;
        }

        public String describe() {
            return String.join(" ", command) + " exited " + exitCode + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    private Command() {
    }

    public static Result run(Duration timeout, List<String> command) {
        return run(timeout, command, Map.of());
    }

    public static Result run(Duration timeout, List<String> command, Map<String, String> env) {
        Raw raw = exec(timeout, command, env, null);
        return new Result(raw.command(), raw.exitCode(), new String(raw.stdout(), StandardCharsets.UTF_8), raw.stderr());
    }

    /** What a finished command printed, its standard output as bytes (binary payloads). */
    public record Raw(List<String> command, int exitCode, byte[] stdout, String stderr) {
    }

    /**
     * Runs {@code command} to completion within {@code timeout}, with {@code stdin} written to it and then closed
     * ({@code null}: /dev/null).
     */
    public static Raw exec(Duration timeout, List<String> command, Map<String, String> env, byte[] stdin) {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (stdin == null) pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
        if (stdin != null) {
            CompletableFuture.runAsync(() -> {
                try (java.io.OutputStream in = p.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException e) {
                    // the command exited before reading everything: its exit code and stderr tell why
                }
            });
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "\nstdout so far: " + new String(out.getNow(new byte[0]), StandardCharsets.UTF_8)
                        + "\nstderr so far: " + new String(err.getNow(new byte[0]), StandardCharsets.UTF_8));
            }
            return new Raw(List.copyOf(command), p.exitValue(), out.get(30, TimeUnit.SECONDS),
                    new String(err.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + String.join(" ", command), e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("cannot read the output of " + String.join(" ", command), e);
        }
    }

    private static byte[] drain(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
