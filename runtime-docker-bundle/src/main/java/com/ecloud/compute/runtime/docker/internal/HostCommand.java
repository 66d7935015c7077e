package com.ecloud.compute.runtime.docker.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command of the host (mount, mkfs.ext4, tar, ...) to its end, with a time limit. */
final class HostCommand {

    private HostCommand() {
    }

    /** Runs {@code command}; throws with its output when it fails or overruns {@code timeoutSeconds}. */
    static String run(List<String> command, long timeoutSeconds) throws IOException {
        return run(command, null, 0, timeoutSeconds);
    }

    /** Runs {@code command}, taking exit codes up to {@code highestSuccess} as success. */
    static String run(List<String> command, int highestSuccess, long timeoutSeconds) throws IOException {
        return run(command, null, highestSuccess, timeoutSeconds);
    }

    /** Runs {@code command} with {@code stdin} copied to its standard input (null for none). */
    static String run(List<String> command, InputStream stdin, long timeoutSeconds) throws IOException {
        return run(command, stdin, 0, timeoutSeconds);
    }

    private static String run(List<String> command, InputStream stdin, int highestSuccess, long timeoutSeconds)
            throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        // read the output on the side so that a chatty command cannot block on a full pipe
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = process.getInputStream()) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                in.transferTo(bytes);
                return bytes.toString(StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) stdin.transferTo(in);
        } catch (IOException e) {
            // the command ended early; its exit status and output tell why
        }
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " took longer than " + timeoutSeconds + " s");
            }
            String text = output.get(5, TimeUnit.SECONDS).trim();
            if (process.exitValue() < 0 || process.exitValue() > highestSuccess) {
                throw new IOException(String.join(" ", command) + " failed (" + process.exitValue() + "): " + text);
            }
            return text;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("cannot read the output of " + command.get(0), e);
        }
    }
}
