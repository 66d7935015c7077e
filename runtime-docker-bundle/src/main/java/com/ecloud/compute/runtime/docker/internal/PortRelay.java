package com.ecloud.compute.runtime.docker.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.HostEndpoint;

/**
 * A loopback TCP listener that forwards each connection to a container's port on its bridge address. Docker
 * publishes ports only when a container is created; the gateway needs one for any port at any time.
 *
 * <p>One selector thread serves the listener and every connection (non-blocking, a direct buffer per direction):
 * a proxy in front keeps many keep-alive connections open, and a thread pair per connection cost two context
 * switches per hop. End of input in one direction is passed on as a half-close, so request/response protocols
 * that rely on it work. The target address is read from the engine when the relay is made and again when a
 * connection to it fails (the container restarted with another address).
 */
final class PortRelay implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(PortRelay.class);
    private static final int BUFFER = 32 * 1024;

    private final String name;
    private final Supplier<InetSocketAddress> resolveTarget;
    private final ServerSocketChannel server;
    private final Selector selector;
    private volatile InetSocketAddress target;
    private volatile boolean closed;

    PortRelay(String name, Supplier<InetSocketAddress> resolveTarget, ExecutorService threads) throws IOException {
        this.name = name;
        this.resolveTarget = resolveTarget;
        this.target = resolveTarget.get();
        this.selector = Selector.open();
        this.server = ServerSocketChannel.open();
        try {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            quietly(server);
            quietly(selector);
            throw e;
        }
        threads.execute(this::run);
    }

    HostEndpoint endpoint() {
        InetSocketAddress local = (InetSocketAddress) server.socket().getLocalSocketAddress();
        return new HostEndpoint(local.getAddress().getHostAddress(), local.getPort());
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
        selector.wakeup();
    }

    private void run() {
        Thread.currentThread().setName("ecloud-relay-" + name);
        try {
            while (!closed) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    try {
                        if (!key.isValid()) continue;
                        if (key.isAcceptable()) {
                            accept();
                        } else {
                            ((Direction) key.attachment()).pair.ready(key);
                        }
                    } catch (IOException | RuntimeException e) {
                        if (key.attachment() instanceof Direction d) d.pair.close();
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) LOG.warn("relay {} stopped: {}", name, e.toString());
        } finally {
            for (SelectionKey key : selector.keys()) quietly(key.channel());
            quietly(selector);
        }
    }

    private void accept() throws IOException {
        SocketChannel client;
        while ((client = server.accept()) != null) {
            client.configureBlocking(false);
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            try {
                new Pair(client).connect(false);
            } catch (IOException | RuntimeException e) {
                LOG.debug("relay {}: cannot reach {}: {}", name, target, e.toString());
                quietly(client);
            }
        }
    }

    /** One side's reading: bytes read from {@code from} wait in {@code buffer} until written to the other side. */
    private static final class Direction {
        final Pair pair;
        final SocketChannel from;
        final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
        SelectionKey key;
        boolean ended;

        Direction(Pair pair, SocketChannel from) {
            this.pair = pair;
            this.from = from;
        }
    }

    /** A client connection and its connection to the container. */
    private final class Pair {
        private final Direction fromClient;
        private Direction fromContainer;
        private SocketChannel upstream;
        private boolean connected;

        Pair(SocketChannel client) {
            this.fromClient = new Direction(this, client);
        }

        /** Starts connecting to the target; {@code retried}: after a refresh of the address. */
        void connect(boolean retried) throws IOException {
            InetSocketAddress address = target;
            if (address == null) throw new IOException("the container has no address (not running)");
            upstream = SocketChannel.open();
            upstream.configureBlocking(false);
            upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
            fromContainer = new Direction(this, upstream);
            fromContainer.key = upstream.register(selector, SelectionKey.OP_CONNECT, fromContainer);
            if (fromClient.key == null) fromClient.key = fromClient.from.register(selector, 0, fromClient);
            fromClient.key.attach(fromClient);
            this.retried = retried;
            if (upstream.connect(address)) connected();
        }

        private boolean retried;

        void ready(SelectionKey key) throws IOException {
            Direction d = (Direction) key.attachment();
            if (!connected) {
                if (d != fromContainer || !key.isConnectable()) return;
                try {
                    upstream.finishConnect();
                } catch (IOException e) {
                    quietly(upstream);
                    if (retried || closed) throw e;
                    refreshTarget(); // the container may have restarted with another address
                    connect(true);
                    return;
                }
                connected();
                return;
            }
            if (key.isReadable()) read(d);
            if (key.isValid() && key.isWritable()) write(other(d));
            update();
        }

        private void connected() {
            connected = true;
            update();
        }

        private Direction other(Direction d) {
            return d == fromClient ? fromContainer : fromClient;
        }

        private SocketChannel destination(Direction d) {
            return d == fromClient ? upstream : fromClient.from;
        }

        private void read(Direction d) throws IOException {
            if (d.ended || !d.buffer.hasRemaining()) return;
            int n = d.from.read(d.buffer);
            if (n < 0) d.ended = true;
            write(d);
        }

        /** Writes what {@code d} read to its destination; after its end, passes the half-close on. */
        private void write(Direction d) throws IOException {
            d.buffer.flip();
            if (d.buffer.hasRemaining()) destination(d).write(d.buffer);
            d.buffer.compact();
            if (d.ended && d.buffer.position() == 0) destination(d).shutdownOutput();
        }

        /** Reads where there is room, writes where bytes wait; closes both once both directions ended. */
        private void update() {
            if (fromClient.ended && fromContainer.ended && fromClient.buffer.position() == 0
                    && fromContainer.buffer.position() == 0) {
                close();
                return;
            }
            interest(fromClient, fromContainer);
            interest(fromContainer, fromClient);
        }

        /** Interest of {@code d}'s channel: reading its own input, writing what {@code opposite} read. */
        private void interest(Direction d, Direction opposite) {
            int ops = 0;
            if (!d.ended && d.buffer.hasRemaining()) ops |= SelectionKey.OP_READ;
            if (opposite.buffer.position() > 0) ops |= SelectionKey.OP_WRITE;
            if (d.key.isValid()) d.key.interestOps(ops);
        }

        void close() {
            quietly(fromClient.from);
            quietly(upstream);
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
