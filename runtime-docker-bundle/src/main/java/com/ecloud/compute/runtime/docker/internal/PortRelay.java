package com.ecloud.compute.runtime.docker.internal;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.HostEndpoint;

/**
 * A loopback TCP listener that forwards each connection to a container's port on its bridge address. Docker
 * publishes ports only when a container is created; the gateway needs one for any port at any time.
 *
 * <p>Two pump threads per connection with 64 KiB buffers; end of input in one direction is passed on as a
 * half-close, so request/response protocols that rely on it work. The target address is read from the engine
 * when the relay is made and again when a connection to it fails (the container restarted with another address).
 */
final class PortRelay implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(PortRelay.class);
    private static final int BUFFER = 64 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 5000;

    private final String name;
    private final Supplier<InetSocketAddress> resolveTarget;
    private final ExecutorService threads;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile InetSocketAddress target;
    private volatile boolean closed;

    PortRelay(String name, Supplier<InetSocketAddress> resolveTarget, ExecutorService threads) throws IOException {
        this.name = name;
        this.resolveTarget = resolveTarget;
        this.threads = threads;
        this.target = resolveTarget.get();
        this.server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    HostEndpoint endpoint() {
        return new HostEndpoint(server.getInetAddress().getHostAddress(), server.getLocalPort());
    }

    /** Reads the target address again (on expose, in case the container restarted). */
    void refreshTarget() {
        InetSocketAddress fresh = resolveTarget.get();
        if (fresh != null) target = fresh;
    }

    @Override
    public void close() {
        closed = true;
        quietly(server);
        open.forEach(PortRelay::quietly);
        open.clear();
    }

    private void accept() {
        Thread.currentThread().setName("ecloud-relay-accept-" + name);
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) LOG.warn("relay {} stopped accepting: {}", name, e.toString());
                return;
            }
            open.add(client);
            threads.execute(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket upstream = null;
        try {
            upstream = dial(target);
        } catch (IOException first) {
            try {
                refreshTarget(); // the container may have restarted with another address
                upstream = dial(target);
            } catch (IOException | RuntimeException second) {
                LOG.debug("relay {}: cannot reach {}: {}", name, target, second.toString());
            }
        } catch (RuntimeException e) {
            LOG.debug("relay {}: no target: {}", name, e.toString());
        }
        if (upstream == null || closed) {
            open.remove(client);
            quietly(client);
            quietly(upstream);
            return;
        }
        open.add(upstream);
        AtomicInteger directions = new AtomicInteger(2);
        Socket server = upstream;
        threads.execute(() -> pump(client, server, directions));
        pump(server, client, directions);
    }

    private Socket dial(InetSocketAddress address) throws IOException {
        if (address == null) throw new IOException("the container has no address (not running)");
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(address, CONNECT_TIMEOUT_MS);
            return socket;
        } catch (IOException e) {
            quietly(socket);
            throw e;
        }
    }

    /** Copies from {@code from} to {@code to}; passes end of input on; closes both after the second direction. */
    private void pump(Socket from, Socket to, AtomicInteger directions) {
        byte[] buffer = new byte[BUFFER];
        try {
            from.setTcpNoDelay(true);
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // a reset or a close: end both directions
            directions.set(1);
        } finally {
            if (directions.decrementAndGet() <= 0) {
                quietly(from);
                quietly(to);
                open.remove(from);
                open.remove(to);
            }
        }
    }

    private static void quietly(Closeable closeable) {
        if (closeable == null) return;
        try {
            closeable.close();
        } catch (IOException e) {
            // nothing more to do
        }
    }
}
