package com.ecloud.compute.gateway.internal.proxy;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

import org.junit.jupiter.api.Test;

/** Listeners open and close as rules come and go: a closed one must refuse connections at once. */
class ProxyListenerTest {

    @Test
    void aClosedListenerRefusesConnectionsAtOnce() throws Exception {
        try (ProxyServer server = new ProxyServer(ProxySettings.defaults(), (h, p, t) -> new Route.Refusal(404, "none"))) {
            for (int round = 0; round < 50; round++) {
                int port;
                try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    port = free.getLocalPort();
                }
                ProxyServer.Listener listener = server.listen("127.0.0.1", port, 8000, null);
                try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    // listening
                }
                listener.close();
                // not accepted by a socket the JDK has yet to close, then reset: refused
                int closedPort = port;
                assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), closedPort).close(),
                        "round " + round);
            }
        }
    }
}
