package com.ecloud.compute.runtime.docker.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

import com.ecloud.compute.api.runtime.LogLine;

/**
 * The log lines of a container's earlier engine containers. The engine deletes a container's log with the
 * container, but the platform re-creates engine containers (new mount paths) that users see as the same
 * container, so the runtime keeps what the old one wrote until the container's storage goes.
 *
 * <p>One file per container, {@code <dir>/<id>.log}, one line per log line: {@code <instant> <o|e> <text>}.
 * Texts never hold a newline (lines are split on it). The file is capped at {@link #maxBytes}: past it, the
 * oldest lines go, as the engine's own rotated log does.
 */
final class LogArchive {

    private final Path dir;
    private final long maxBytes;

    LogArchive(Path dir, long maxBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
    }

    Path file(String containerId) {
        return dir.resolve(containerId + ".log");
    }

    boolean has(String containerId) {
        return Files.isRegularFile(file(containerId));
    }

    /** Appends lines after those already kept, then trims the file to its cap. */
    synchronized void append(String containerId, List<LogLine> lines) throws IOException {
        if (lines.isEmpty()) return;
        Files.createDirectories(dir);
        Path file = file(containerId);
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE)) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            if (!endsWithNewline(file)) buffer.write('\n'); // close a line a crash cut short
            for (LogLine line : lines) {
                buffer.write((line.timestamp() + (line.stderr() ? " e " : " o ")).getBytes(StandardCharsets.US_ASCII));
                buffer.write(line.text().replace('\n', ' ').getBytes(StandardCharsets.UTF_8));
                buffer.write('\n');
                if (buffer.size() > 1 << 16) {
                    buffer.writeTo(out);
                    buffer.reset();
                }
            }
            buffer.writeTo(out);
        }
        trim(file);
    }

    /** The last {@code count} kept lines (all of them when negative), oldest first. */
    synchronized List<LogLine> tail(String containerId, int count) throws IOException {
        Path file = file(containerId);
        if (count == 0 || !Files.isRegularFile(file)) return List.of();
        byte[] bytes = Files.readAllBytes(file);
        int start = 0;
        if (count > 0) {
            // the start of the last count lines: just after the count-th line end before the final one
            int seen = 0;
            for (int i = bytes.length - 2; i >= 0; i--) {
                if (bytes[i] == '\n' && ++seen == count) {
                    start = i + 1;
                    break;
                }
            }
        }
        List<LogLine> lines = new ArrayList<>();
        int lineStart = start;
        for (int i = start; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            LogLine line = parse(bytes, lineStart, i);
            if (line != null) lines.add(line);
            lineStart = i + 1;
        }
        return lines;
    }

    synchronized void delete(String containerId) throws IOException {
        Files.deleteIfExists(file(containerId));
    }

    private static boolean endsWithNewline(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size == 0) return true;
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
            channel.read(last, size - 1);
            return last.get(0) == '\n';
        }
    }

    /** Keeps the newest whole lines within the cap. */
    private void trim(Path file) throws IOException {
        long size = Files.size(file);
        if (size <= maxBytes) return;
        byte[] bytes = Files.readAllBytes(file);
        int from = (int) (bytes.length - maxBytes * 3 / 4); // leave room, so trimming is rare
        while (from < bytes.length && bytes[from - 1] != '\n') from++;
        Path trimmed = file.resolveSibling(file.getFileName() + ".trim");
        try (FileChannel channel = FileChannel.open(trimmed, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(bytes, from, bytes.length - from));
            channel.force(true);
        }
        Files.move(trimmed, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static LogLine parse(byte[] bytes, int from, int to) {
        String line = new String(bytes, from, to - from, StandardCharsets.UTF_8);
        int first = line.indexOf(' ');
        if (first < 0 || line.length() < first + 3 || line.charAt(first + 2) != ' ') return null;
        try {
            Instant timestamp = Instant.parse(line.substring(0, first));
            return new LogLine(timestamp, line.charAt(first + 1) == 'e', line.substring(first + 3));
        } catch (DateTimeParseException e) {
            return null; // a line cut by a crash mid-write
        }
    }
}
