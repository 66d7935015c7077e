package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.forward.ForwardingFilter;
import org.apache.sshd.server.forward.TcpForwardingFilter;
import org.apache.sshd.server.forward.TcpipServerChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.access.AccessRefusedException;
import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.api.runtime.RuntimeFailure;

/**
 * {@code ssh -L} into the container only: a direct-tcpip channel to localhost, 127.0.0.1, ::1 or the container
 * id is rewritten to the host endpoint that {@link ContainerAccess#expose} gives for that port; MINA's own
 * forwarding code then connects there. The filter lets MINA connect to nothing but such a rewritten endpoint, so
 * any other destination fails as "administratively prohibited"; remote forwarding, agent and X11 are refused.
 */
final class ContainerForwarding implements ForwardingFilter {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerForwarding.class);
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1");

    /** Endpoints that a channel of this session is opening right now (added just before MINA connects). */
    private final AttributeKey<Set<String>> approved = new AttributeKey<>();
    private final ContainerAccess access;

    ContainerForwarding(ContainerAccess access) {
        this.access = access;
    }

    /** The channel factory for "direct-tcpip". */
    TcpipServerChannel.TcpipFactory directTcpipFactory() {
        return new TcpipServerChannel.TcpipFactory(TcpForwardingFilter.Type.Direct) {
            @Override
            public Channel createChannel(Session session) throws IOException {
                return new ContainerTcpipChannel();
            }
        };
    }

    static boolean isContainerItself(String host, String containerId) {
        return host != null && (LOOPBACK_NAMES.contains(host.toLowerCase(java.util.Locale.ROOT))
                || host.equals(containerId));
    }

    @Override
    public boolean canForwardAgent(Session session, String requestType) {
        LOG.info("SSH agent forwarding refused for {}", session.getUsername());
        return false;
    }

    @Override
    public boolean canForwardX11(Session session, String requestType) {
        LOG.info("SSH X11 forwarding refused for {}", session.getUsername());
        return false;
    }

    @Override
    public boolean canListen(SshdSocketAddress address, Session session) {
        LOG.info("SSH remote forwarding (-R) refused for {}", session.getUsername());
        return false;
    }

    @Override
    public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
        Set<String> set = session.getAttribute(approved);
        boolean ok = type == Type.Direct && set != null && set.contains(key(address.getHostName(), address.getPort()));
        if (!ok) LOG.info("SSH forwarding to {} refused for {}", address, session.getUsername());
        return ok;
    }

    private static String key(String host, int port) {
        return host + "|" + port;
    }

    /** A direct-tcpip channel whose destination is replaced by the container's exposed endpoint. */
    private final class ContainerTcpipChannel extends TcpipServerChannel {

        ContainerTcpipChannel() {
            super(TcpForwardingFilter.Type.Direct, null);
        }

        @Override
        protected OpenFuture doInit(Buffer buffer) {
            int start = buffer.rpos();
            String host = buffer.getString();
            int port = buffer.getInt();
            String originatorHost = buffer.getString();
            int originatorPort = buffer.getInt();
            buffer.rpos(start);
            Session session = getSession();
            String containerId = session.getUsername();
            if (!isContainerItself(host, containerId) || port < 1 || port > 65535) {
                return super.doInit(buffer); // refused by canConnect: administratively prohibited
            }
            HostEndpoint endpoint;
            try {
                endpoint = access.expose(containerId, port);
            } catch (AccessRefusedException | RuntimeFailure e) {
                LOG.info("SSH forwarding to port {} of {} refused: {}", port, containerId, e.getMessage());
                return super.doInit(buffer);
            } catch (RuntimeException e) {
                LOG.warn("SSH forwarding to port {} of {} failed", port, containerId, e);
                return super.doInit(buffer);
            }
            Set<String> set = session.computeAttributeIfAbsent(approved, k -> ConcurrentHashMap.newKeySet());
            String approval = key(endpoint.host(), endpoint.port());
            set.add(approval);
            try {
                Buffer rewritten = new ByteArrayBuffer();
                rewritten.putString(endpoint.host());
                rewritten.putInt(endpoint.port());
                rewritten.putString(originatorHost);
                rewritten.putInt(originatorPort);
                return super.doInit(rewritten);
            } finally {
                set.remove(approval); // the filter is asked synchronously inside doInit
            }
        }
    }
}
