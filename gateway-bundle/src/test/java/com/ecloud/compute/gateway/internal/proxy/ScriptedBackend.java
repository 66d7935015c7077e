package com.ecloud.compute.gateway.internal.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** A raw-socket backend whose n-th accepted connection (0-based) runs script.run(n, socket): misbehaviour on demand. */
final class ScriptedBackend implements AutoCloseable {
    interface Script {
        void run(int connectionIndex, Socket socket) throws Exception;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    final AtomicInteger accepted = new AtomicInteger();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();

    ScriptedBackend(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    int index = accepted.getAndIncrement();
                    threads.execute(() -> {
                        try (socket) {
                            script.run(index, socket);
                        } catch (Exception e) {
                            failures.add(e);
                        }
                    });
                } catch (IOException closed) {
                    return;
                }
            }
        });
    }

    Route.Backend route() {
        return new Route.Backend("127.0.0.1", server.getLocalPort());
    }

    /** Reads one request head (up to the blank line) from the socket; null when the connection ended first. */
    static String readHead(Socket socket) throws IOException {
        StringBuilder head = new StringBuilder();
        var in = socket.getInputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) return head.toString();
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
