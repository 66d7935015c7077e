package com.ecloud.compute.runtime.docker.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.function.Consumer;

import com.ecloud.compute.api.runtime.LogLine;

/**
 * Turns the engine's log frames (requested with timestamps) into lines. Each log message the engine stored
 * starts with an RFC 3339 timestamp and a space; a message longer than the engine's buffer arrives in parts,
 * each with its own timestamp, and only the last part ends with a newline. Stdout and stderr are assembled
 * apart, since their parts may interleave.
 */
final class LogDecoder {

    private final Consumer<LogLine> sink;
    private final Partial stdout = new Partial(false);
    private final Partial stderr = new Partial(true);

    LogDecoder(Consumer<LogLine> sink) {
        this.sink = sink;
    }

    /** One frame's payload. */
    void accept(boolean isStderr, byte[] payload) {
        (isStderr ? stderr : stdout).accept(payload);
    }

    /** The stream ended: what is left without a newline is a line too. */
    void flush() {
        stdout.flush();
        stderr.flush();
    }

    private final class Partial {
        private final boolean isStderr;
        private final ByteArrayOutputStream text = new ByteArrayOutputStream();
        private Instant timestamp;

        Partial(boolean isStderr) {
            this.isStderr = isStderr;
        }

        void accept(byte[] payload) {
            int pos = 0;
            while (pos < payload.length) {
                pos = skipTimestamp(payload, pos);
                int newline = indexOf(payload, (byte) '\n', pos);
                if (newline < 0) {
                    text.write(payload, pos, payload.length - pos);
                    return;
                }
                text.write(payload, pos, newline - pos);
                emit();
                pos = newline + 1;
            }
        }

        void flush() {
            if (text.size() > 0) emit();
        }

        /** Parses a "timestamp " prefix at {@code pos}; keeps the first one of a line. */
        private int skipTimestamp(byte[] payload, int pos) {
            int space = indexOf(payload, (byte) ' ', pos);
            if (space < 0 || space - pos > 40 || space - pos < 20) return pos;
            try {
                Instant parsed = OffsetDateTime.parse(new String(payload, pos, space - pos, StandardCharsets.US_ASCII))
                        .toInstant();
                if (timestamp == null) timestamp = parsed;
                return space + 1;
            } catch (DateTimeParseException e) {
                return pos; // not a timestamp: part of the text
            }
        }

        private void emit() {
            byte[] bytes = text.toByteArray();
            int length = bytes.length;
            if (length > 0 && bytes[length - 1] == '\r') length--;
            sink.accept(new LogLine(timestamp != null ? timestamp : Instant.now(), isStderr,
                    new String(bytes, 0, length, StandardCharsets.UTF_8)));
            text.reset();
            timestamp = null;
        }
    }

    private static int indexOf(byte[] bytes, byte wanted, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == wanted) return i;
        }
        return -1;
    }
}
