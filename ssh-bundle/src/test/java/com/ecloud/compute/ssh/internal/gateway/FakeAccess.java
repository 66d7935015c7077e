package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import com.ecloud.compute.api.access.AccessRefusedException;
import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.access.SshTarget;
import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.runtime.ExecListener;
import com.ecloud.compute.api.runtime.ExecSession;
import com.ecloud.compute.api.runtime.ExecSpec;
import com.ecloud.compute.api.runtime.HostEndpoint;

/**
 * A ContainerAccess for unit tests: "containers" are entries of a map; exec without a tty runs the command as a
 * local process; exec with a tty is a fake terminal that reports its size and echoes its input; expose points
 * at a local echo server.
 */
final class FakeAccess implements ContainerAccess, AutoCloseable {

    final Map<String, SshTarget> targets = new ConcurrentHashMap<>();
    final List<ExecSpec> specs = new CopyOnWriteArrayList<>();
    final List<String> resizes = new CopyOnWriteArrayList<>();
    final List<String> closed = new CopyOnWriteArrayList<>();
    final List<String> exposed = new CopyOnWriteArrayList<>();
    private final ServerSocket echo;

    FakeAccess() throws IOException {
        echo = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::serveEcho, "fake-echo");
        t.setDaemon(true);
        t.start();
    }

    void put(String id, String owner, ContainerStatus status, boolean sshEnabled, String... keys) {
        targets.put(id, new SshTarget(id, owner, status, sshEnabled, List.of(keys)));
    }

    @Override
    public Optional<SshTarget> sshTarget(String containerId) {
        return Optional.ofNullable(targets.get(containerId));
    }

    @Override
    public ExecSession exec(String containerId, ExecSpec spec, ExecListener listener) {
        SshTarget t = targets.get(containerId);
        if (t == null || t.status() != ContainerStatus.RUNNING) {
            throw new AccessRefusedException("container " + containerId + " is not running");
        }
        specs.add(spec);
        return spec.tty() ? new FakeTerminal(containerId, spec, listener) : new LocalProcess(containerId, spec, listener);
    }

    @Override
    public HostEndpoint expose(String containerId, int port) {
        exposed.add(containerId + ":" + port);
        return new HostEndpoint("127.0.0.1", echo.getLocalPort());
    }

    private void serveEcho() {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                Thread t = new Thread(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException ignored) {
                        // client went away
                    }
                });
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    @Override
    public String domain() {
        return "localhost";
    }

    @Override
    public void close() throws IOException {
        echo.close();
    }

    /** A tty exec: prints "size COLSxROWS term TERM", echoes input, exits 0 on "exit\n". */
    private final class FakeTerminal implements ExecSession {
        private final String id;
        private final ExecListener listener;
        private boolean done;

        FakeTerminal(String id, ExecSpec spec, ExecListener listener) {
            this.id = id;
            this.listener = listener;
            listener.onOutput(("size " + spec.cols() + "x" + spec.rows() + " term " + spec.env().get("TERM") + "\r\n")
                    .getBytes(StandardCharsets.UTF_8), false);
        }

        @Override
        public synchronized void write(byte[] data) {
            if (done) return;
            listener.onOutput(data, false);
            if (new String(data, StandardCharsets.UTF_8).contains("exit")) {
                done = true;
                listener.onExit(0, null);
            }
        }

        @Override
        public void closeInput() {
        }

        @Override
        public void resize(int cols, int rows) {
            resizes.add(cols + "x" + rows);
            listener.onOutput(("resized " + cols + "x" + rows + "\r\n").getBytes(StandardCharsets.UTF_8), false);
        }

        @Override
        public void close() {
            closed.add(id);
        }
    }

    /** A non-tty exec as a local process (the command is argv, e.g. sh -c ...). */
    private final class LocalProcess implements ExecSession {
        private final String id;
        private final Process process;
        private final OutputStream stdin;

        LocalProcess(String id, ExecSpec spec, ExecListener listener) {
            this.id = id;
            try {
                process = new ProcessBuilder(spec.command().isEmpty() ? List.of("/bin/sh") : spec.command()).start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            stdin = process.getOutputStream();
            Thread out = pump(process.getInputStream(), false, listener);
            Thread err = pump(process.getErrorStream(), true, listener);
            Thread waiter = new Thread(() -> {
                try {
                    int code = process.waitFor();
                    out.join();
                    err.join();
                    listener.onExit(code, null);
                } catch (InterruptedException e) {
                    listener.onExit(null, e);
                }
            });
            waiter.setDaemon(true);
            waiter.start();
        }

        private Thread pump(InputStream in, boolean stderr, ExecListener listener) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try {
                    int n;
                    while ((n = in.read(buf)) > 0) listener.onOutput(java.util.Arrays.copyOf(buf, n), stderr);
                } catch (IOException ignored) {
                    // process ended
                }
            });
            t.setDaemon(true);
            t.start();
            return t;
        }

        @Override
        public void write(byte[] data) {
            try {
                stdin.write(data);
                stdin.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void closeInput() {
            try {
                stdin.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        @Override
        public void resize(int cols, int rows) {
        }

        @Override
        public void close() {
            if (process.isAlive()) closed.add(id);
            process.destroyForcibly();
        }
    }
}
