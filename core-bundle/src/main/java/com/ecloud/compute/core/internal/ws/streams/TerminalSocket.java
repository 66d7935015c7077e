package com.ecloud.compute.core.internal.ws.streams;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code /compute/containers/:id/terminal}: a login shell on a PTY (TERM=xterm-256color, 80x24 at start) through the
 * runtime's exec. Binary frames carry the bytes both ways; a text frame {@code {"type":"resize","cols":C,"rows":R}}
 * resizes the PTY (1..{@value #MAX_SIZE} each); any other text frame closes the socket with 1003. When the shell
 * exits the socket closes with 1000 and the reason {@code exit <status>}; when the socket closes the exec process is
 * ended (the runtime ends its whole process tree).
 */
public final class TerminalSocket extends StreamSocket implements ExecListener {

    private static final Logger LOG = LoggerFactory.getLogger(TerminalSocket.class);

    static final int COLS = 80;
    static final int ROWS = 24;
    static final int MAX_SIZE = 1000;
    static final int UNSUPPORTED = 1003;

    private final ContainerRuntime runtime;
    private final ObjectMapper json;
    /** Where the blocking end of an exec runs, off Jetty's threads. */
    private final Executor closer;
    private volatile ExecSession exec;

    TerminalSocket(String uid, String containerId, ContainerRuntime runtime, ObjectMapper json, Executor closer,
            ContainerStreamsConfig config, Consumer<StreamSocket> onClosed) {
        super(uid, containerId, config, onClosed);
        this.runtime = runtime;
        this.json = json;
        this.closer = closer;
    }

    @Override
    public void onWebSocketOpen(Session s) {
        opened(s);
        ExecSession e;
        try {
            e = runtime.exec(containerId, new ExecSpec(List.of(), true, COLS, ROWS, Map.of("TERM", "xterm-256color")), this);
        } catch (RuntimeException ex) {
            LOG.warn("terminal in {} could not start: {}", containerId, ex.getMessage());
            close(1011, "the terminal cannot start now");
            return;
        }
        exec = e;
        // the client may have gone while the shell started: release() then saw no session
        if (isClosed()) endLater(e);
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        ExecSession e = exec;
        try {
            if (e != null && payload.hasRemaining()) {
                byte[] data = new byte[payload.remaining()];
                payload.get(data);
                e.write(data);
            }
            callback.succeed();
        } catch (RuntimeException ex) {
            callback.fail(ex);
        }
    }

    @Override
    public void onWebSocketText(String message) {
        Resize r = Resize.parse(json, message);
        if (r == null) {
            close(UNSUPPORTED, "text frames must be {\"type\":\"resize\",\"cols\":C,\"rows\":R} with 1.." + MAX_SIZE);
            return;
        }
        ExecSession e = exec;
        if (e != null) e.resize(r.cols(), r.rows());
    }

    @Override
    public void onOutput(byte[] data, boolean stderr) {
        sendBinary(data);
    }

    @Override
    public void onExit(Integer exitCode, Throwable error) {
        if (exitCode != null) {
            close(1000, "exit " + exitCode);
        } else {
            LOG.info("terminal in {} failed: {}", containerId, error == null ? "unknown" : error.getMessage());
            close(1011, "the terminal failed");
        }
    }

    @Override
    protected String kind() {
        return "terminal";
    }

    @Override
    protected void release() {
        ExecSession e = exec;
        if (e != null) endLater(e);
    }

    /** Ends the exec process; blocks while the runtime ends its process tree, so not on a Jetty thread. */
    private void endLater(ExecSession e) {
        Runnable end = () -> {
            try {
                e.close();
            } catch (RuntimeException ex) {
                LOG.warn("ending the terminal in {} failed: {}", containerId, ex.getMessage());
            }
        };
        try {
            closer.execute(end);
        } catch (RejectedExecutionException rejected) {
            // the component is going away: end it here rather than leave a shell behind
            end.run();
        }
    }

    /** A valid resize message, or null for anything else. */
    record Resize(int cols, int rows) {
        static Resize parse(ObjectMapper json, String message) {
            JsonNode m;
            try {
                m = json.readTree(message);
            } catch (Exception e) {
                return null;
            }
            if (m == null || !m.isObject() || !"resize".equals(m.path("type").asText(null))) return null;
            JsonNode c = m.get("cols");
            JsonNode r = m.get("rows");
            if (c == null || r == null || !c.isIntegralNumber() || !r.isIntegralNumber()) return null;
            long cols = c.asLong();
            long rows = r.asLong();
            if (cols < 1 || cols > MAX_SIZE || rows < 1 || rows > MAX_SIZE) return null;
            return new Resize((int) cols, (int) rows);
        }
    }
}
