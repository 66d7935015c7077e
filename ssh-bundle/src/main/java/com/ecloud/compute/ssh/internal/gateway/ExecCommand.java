package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.sshd.server.Environment;
import org.apache.sshd.server.Signal;
import org.apache.sshd.server.channel.ChannelSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.access.AccessRefusedException;
import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.ssh.internal.common.ChannelStreams;

/**
 * One shell, exec or subsystem request of a session channel, run in the container through
 * {@link ContainerAccess#exec}: stdin is pumped from the channel on a thread of ours, output is written to the
 * channel in the order the runtime delivers it, the exit code becomes exit-status, and closing the channel ends
 * the process.
 */
final class ExecCommand extends ChannelStreams implements ExecListener {

    static final String DEFAULT_TERM = "xterm-256color";
    /** Exit status when the process could not be started or the session failed. */
    static final int FAILED = 255;

    private static final Logger LOG = LoggerFactory.getLogger(ExecCommand.class);

    private final ContainerAccess access;
    private final Executor stdinPumps;
    private final List<String> command;
    private final boolean ttyAllowed;
    private final String what;
    private final AtomicBoolean exited = new AtomicBoolean();
    private final Object outputLock = new Object();
    private volatile ExecSession exec;
    private volatile boolean destroyed;
    /** The client's reader went away (eow@openssh.com): output is dropped and the process ended. */
    private volatile boolean outputUnwanted;
    private String containerId = "?";
    /** A terminal in raw mode needs CR LF. */
    private volatile boolean tty;

    /**
     * @param command    argv in the container; empty for the login shell
     * @param ttyAllowed whether a pty-req of the channel gives the process a terminal (not for subsystems)
     * @param what       for logs: shell, exec, sftp
     */
    ExecCommand(ContainerAccess access, Executor stdinPumps, List<String> command, boolean ttyAllowed, String what) {
        this.access = access;
        this.stdinPumps = stdinPumps;
        this.command = List.copyOf(command);
        this.ttyAllowed = ttyAllowed;
        this.what = what;
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
        containerId = channel.getSession().getUsername();
        tty = ttyAllowed && channel instanceof GatewayChannelSession g && g.ptyRequested();
        Map<String, String> vars = env.getEnv();
        int cols = number(vars.get(Environment.ENV_COLUMNS), 80);
        int rows = number(vars.get(Environment.ENV_LINES), 24);
        String term = vars.get(Environment.ENV_TERM);
        Map<String, String> execEnv = tty ? Map.of("TERM", term == null || term.isBlank() ? DEFAULT_TERM : term)
                : Map.of();
        ExecSpec spec = new ExecSpec(command, tty, cols, rows, execEnv);
        try {
            exec = access.exec(containerId, spec, this);
        } catch (AccessRefusedException | RuntimeFailure e) {
            LOG.info("SSH {} into {} refused: {}", what, containerId, e.getMessage());
            fail(e.getMessage());
            return;
        } catch (RuntimeException e) {
            LOG.warn("SSH {} into {} failed", what, containerId, e);
            fail("the platform could not start the process");
            return;
        }
        if (destroyed) { // the channel closed while the process was being started
            exec.close();
            return;
        }
        if (tty) {
            env.addSignalListener((c, signal) -> {
                Map<String, String> now = env.getEnv();
                ExecSession session = exec;
                if (session != null) {
                    session.resize(number(now.get(Environment.ENV_COLUMNS), cols),
                            number(now.get(Environment.ENV_LINES), rows));
                }
            }, Signal.WINCH);
        }
        stdinPumps.execute(this::pumpStdin);
    }

    /** Copies the channel's input to the process until EOF, which closes the process's stdin. */
    private void pumpStdin() {
        byte[] buffer = new byte[32 * 1024];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (exited.get()) return;
                if (n > 0) exec.write(Arrays.copyOf(buffer, n));
            }
            if (!exited.get()) exec.closeInput();
        } catch (IOException e) {
            // the channel closed: destroy() ends the process
        } catch (RuntimeException e) {
            if (!exited.get() && !destroyed) LOG.info("SSH {} into {}: stdin not delivered: {}", what, containerId, e.toString());
        }
    }

    @Override
    public void onOutput(byte[] data, boolean stderr) {
        synchronized (outputLock) {
            if (destroyed || outputUnwanted) return;
            try {
                OutputStream target = stderr ? err : out;
                target.write(data);
                target.flush(); // interactive echo must not wait for a full buffer
            } catch (IOException e) {
                // the client went away: end the process rather than let it block on a full pipe
                LOG.debug("SSH {} into {}: output not delivered", what, containerId, e);
                closeExec();
            }
        }
    }

    @Override
    public void onExit(Integer exitCode, Throwable error) {
        if (error != null) {
            LOG.info("SSH {} into {} ended with an error: {}", what, containerId, error.toString());
            fail(error instanceof RuntimeFailure || error instanceof AccessRefusedException ? error.getMessage()
                    : "the session with the container failed");
            return;
        }
        if (!exited.compareAndSet(false, true)) return;
        synchronized (outputLock) {
            flushQuietly();
        }
        exitCallback.onExit(exitCode == null ? FAILED : exitCode);
    }

    /** Tells the user why, on stderr, and ends the channel with {@link #FAILED}. */
    private void fail(String message) {
        if (!exited.compareAndSet(false, true)) return;
        synchronized (outputLock) {
            try {
                err.write(("ecloud: " + message + (tty ? "\r\n" : "\n")).getBytes(StandardCharsets.UTF_8));
                err.flush();
            } catch (IOException ignored) {
                // the channel is already gone
            }
            flushQuietly();
        }
        exitCallback.onExit(FAILED, message);
    }

    private void flushQuietly() {
        try {
            out.flush();
            err.flush();
        } catch (IOException ignored) {
            // the channel is already gone
        }
    }

    /**
     * The client will not write any more output anywhere ({@code ssh id 'cat /dev/zero' | head}): as OpenSSH's
     * sshd does, the process is not left writing into the void but ended, which ends the channel.
     */
    void outputNotWanted() {
        outputUnwanted = true;
        LOG.debug("SSH {} into {}: the client's reader went away, ending the process", what, containerId);
        closeExecInBackground();
    }

    @Override
    public void destroy(ChannelSession channel) {
        destroyed = true;
        closeExecInBackground();
    }

    /** Closing waits (briefly) for the process to go: not on the transport's threads, which serve every session. */
    private void closeExecInBackground() {
        try {
            stdinPumps.execute(this::closeExec);
        } catch (RejectedExecutionException e) {
            closeExec(); // the gateway is stopping
        }
    }

    private void closeExec() {
        ExecSession session = exec;
        if (session == null) return;
        try {
            session.close();
        } catch (RuntimeException e) {
            LOG.info("SSH {} into {}: closing the process failed: {}", what, containerId, e.toString());
        }
    }

    private static int number(String value, int fallback) {
        try {
            int n = value == null ? fallback : Integer.parseInt(value.trim());
            return n > 0 ? n : fallback;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
