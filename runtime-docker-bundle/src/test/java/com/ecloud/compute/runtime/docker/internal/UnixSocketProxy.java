package com.ecloud.compute.runtime.docker.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A unix socket in front of the engine's, which a test can take down and bring back (an engine outage). */
final class UnixSocketProxy implements Closeable {

    private final Path socket;
    private final Path engine;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile ServerSocketChannel server;

    UnixSocketProxy(Path socket, Path engine) {
        this.socket = socket;
        this.engine = engine;
    }

    synchronized void start() throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel listening = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listening.bind(UnixDomainSocketAddress.of(socket));
        server = listening;
        Thread acceptor = new Thread(() -> accept(listening), "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Stops listening and cuts every connection: to its clients the engine is gone. */
    synchronized void stop() throws IOException {
        if (server != null) server.close();
        server = null;
        for (SocketChannel channel : open) channel.close();
        open.clear();
        Files.deleteIfExists(socket);
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private void accept(ServerSocketChannel listening) {
        while (listening.isOpen()) {
            try {
                SocketChannel client = listening.accept();
                SocketChannel upstream = SocketChannel.open(UnixDomainSocketAddress.of(engine));
                open.add(client);
                open.add(upstream);
                pump(client, upstream);
                pump(upstream, client);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(SocketChannel from, SocketChannel to) {
        Thread thread = new Thread(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            try {
                while (from.read(buffer) >= 0) {
                    buffer.flip();
                    while (buffer.hasRemaining()) to.write(buffer);
                    buffer.clear();
                }
                to.shutdownOutput();
            } catch (IOException e) {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // both gone
                }
            }
        }, "proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }
}
