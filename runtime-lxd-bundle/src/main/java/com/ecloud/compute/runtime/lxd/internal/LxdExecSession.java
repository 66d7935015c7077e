package com.ecloud.compute.runtime.lxd.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One process started with LXD's exec in WebSocket mode. Without a tty LXD offers the streams 0, 1 and 2 and a
 * control socket; with one, 0 (the terminal, both ways) and control. Each socket has a reader thread (LXD pings
 * every socket, and only a reader answers). Output ends with an empty text frame or the socket's end; once every
 * output stream has ended, the remaining sockets are closed (LXD keeps a tty's operation running until then) and the
 * exit status is read from the finished operation.
 *
 * <p>Every process of the session carries {@value #SESSION_VARIABLE} in its environment, which children inherit:
 * closing the session kills them all (LXD's signal on the control socket reaches only the first process, and a
 * shell's background jobs would outlive it).
 */
final class LxdExecSession implements ExecSession {

    /** Marks the processes of one session; closing the session kills every process that has it. */
    static final String SESSION_VARIABLE = "ECLOUD_EXEC_SESSION";

    private static final Logger LOG = LoggerFactory.getLogger(LxdExecSession.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LxdClient lxd;
    private final String instance;
    private final String operation;
    private final String marker;
    private final boolean tty;
    private final ExecListener listener;
    private final Consumer<LxdExecSession> onFinished;
    private final LxdWebSocket stdin;
    private final LxdWebSocket control;
    private final List<LxdWebSocket> sockets = new ArrayList<>();
    private final AtomicInteger outputsOpen;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();

    /**
     * Connects the operation's WebSockets (LXD starts the process once all are connected, and fails the operation
     * when they are not within 5 s) and starts reading.
     */
    LxdExecSession(LxdClient lxd, String instance, JsonNode operationEnvelope, String marker, boolean tty,
            ExecListener listener, Consumer<LxdExecSession> onFinished) {
        this.lxd = lxd;
        this.instance = instance;
        this.operation = operationEnvelope.path("operation").asText();
        this.marker = marker;
        this.tty = tty;
        this.listener = listener;
        this.onFinished = onFinished;
        JsonNode fds = operationEnvelope.path("metadata").path("metadata").path("fds");
        this.outputsOpen = new AtomicInteger(tty ? 1 : 2);
        try {
            // each socket is read from the moment it is connected, as LXD's own client does: LXD pings every socket
            // at once, and with readers started only after the last connect, a process that ended at once lost its
            // output now and then (measured: 13 of 150 `sh -c 'echo $X'` without a tty)
            this.control = connect(fds, "control");
            reader("control", control, false, false);
            this.stdin = connect(fds, "0");
            reader(tty ? "tty" : "stdin", stdin, tty, false);
            if (!tty) {
                reader("stdout", connect(fds, "1"), true, false);
                reader("stderr", connect(fds, "2"), true, true);
            }
        } catch (RuntimeException e) {
            sockets.forEach(LxdWebSocket::close);
            throw e;
        }
    }

    private LxdWebSocket connect(JsonNode fds, String fd) {
        String secret = fds.path(fd).asText("");
        if (secret.isEmpty()) throw new IllegalStateException("LXD offered no WebSocket for " + fd + ": " + fds);
        LxdWebSocket socket = lxd.webSocket(operation + "/websocket?secret=" + secret);
        sockets.add(socket);
        return socket;
    }

    /** A thread per socket; output sockets pass their data on and count down to the exit. */
    private void reader(String stream, LxdWebSocket socket, boolean output, boolean isStderr) {
        Thread thread = new Thread(() -> {
            try {
                LxdWebSocket.Message message;
                while ((message = socket.read()) != null) {
                    if (!output) continue; // control and a plain stdin carry nothing for us
                    if (message.text() && message.data().length == 0) break; // LXD's end of this stream
                    if (!message.text() && message.data().length > 0) listener.onOutput(message.data(), isStderr);
                }
            } catch (IOException e) {
                // the socket ended under us (closed session, LXD gone): the exit tells the rest
                LOG.debug("exec {} {} ended: {}", operation, stream, e.toString());
            } catch (RuntimeException e) {
                LOG.warn("exec {} {}: the listener failed: {}", operation, stream, e.toString());
            }
            if (output && outputsOpen.decrementAndGet() == 0) finish();
        }, "ecloud-lxd-exec-" + stream);
        thread.setDaemon(true);
        thread.start();
    }

    /** All output has ended: release the sockets and tell the exit status, once. */
    private void finish() {
        try {
            // close frames, not cut connections: over TLS LXD fails the operation when a socket it still closes
            // is gone ("failed to send closeNotify"); LXD keeps a tty's operation running until stream 0 closes
            sockets.forEach(LxdWebSocket::sendClose);
            Integer exitCode = null;
            Throwable error = null;
            try {
                JsonNode op = lxd.awaitOperation("exec in " + instance, operation);
                JsonNode code = op.path("metadata").path("return");
                if (code.isInt()) exitCode = code.asInt();
                else error = new IllegalStateException("LXD reported no exit status for the exec");
            } catch (RuntimeFailure e) {
                error = e;
            }
            sockets.forEach(LxdWebSocket::close);
            try {
                listener.onExit(exitCode, error);
            } catch (RuntimeException e) {
                LOG.warn("exec {}: the listener failed on exit: {}", operation, e.toString());
            }
        } finally {
            sockets.forEach(LxdWebSocket::close);
            finished.countDown();
            onFinished.accept(this);
        }
    }

    @Override
    public void write(byte[] data) {
        try {
            stdin.sendBinary(data, 0, data.length);
        } catch (IOException e) {
            LOG.debug("exec {} input dropped: {}", operation, e.toString()); // ended: onExit tells the caller
        }
    }

    /**
     * The end of input: a close frame on stream 0. A terminal has no end of input (closing its socket would end
     * the session): with a tty, the user ends the shell as on any terminal.
     */
    @Override
    public void closeInput() {
        if (!tty) stdin.sendClose();
    }

    @Override
    public void resize(int cols, int rows) {
        if (!tty || cols <= 0 || rows <= 0) return;
        try {
            control.sendText(JSON.writeValueAsString(Map.of("command", "window-resize", "args",
                    Map.of("width", Integer.toString(cols), "height", Integer.toString(rows)))));
        } catch (IOException e) {
            LOG.debug("exec {} resize dropped: {}", operation, e.toString());
        }
    }

    /** Kills every process of the session, waits briefly for its output to drain, then cuts the sockets. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        try {
            if (finished.getCount() > 0) {
                try {
                    lxd.runQuietly(instance, List.of("sh", "-c", killSessionScript(marker)));
                } catch (RuntimeFailure e) {
                    LOG.debug("exec {}: killing its processes failed: {}", operation, e.toString());
                }
                finished.await(3, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            sockets.forEach(LxdWebSocket::close);
        }
    }

    /** SIGKILL to every process whose environment holds the session's marker (read from /proc: any image works). */
    static String killSessionScript(String marker) {
        return "for p in /proc/[0-9]*; do "
                + "if tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx '" + SESSION_VARIABLE + "=" + marker + "'; "
                + "then kill -9 ${p#/proc/} 2>/dev/null; fi; done; true";
    }

    /** Whether the process has ended and its exit was told. */
    boolean isFinished() {
        return finished.getCount() == 0;
    }
}
