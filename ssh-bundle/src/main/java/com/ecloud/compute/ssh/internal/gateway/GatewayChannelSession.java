package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.util.Map;

import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.PtyMode;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.server.channel.ChannelSession;

/** A session channel that remembers whether the client asked for a pseudo-terminal (pty-req). */
final class GatewayChannelSession extends ChannelSession {

    /** Creates these channels for the "session" channel type. */
    static final ChannelFactory FACTORY = new ChannelFactory() {
        @Override
        public String getName() {
            return "session";
        }

        @Override
        public Channel createChannel(Session session) throws IOException {
            return new GatewayChannelSession();
        }
    };

    private volatile boolean ptyRequested;

    boolean ptyRequested() {
        return ptyRequested;
    }

    @Override
    protected RequestHandler.Result handlePtyReqParsed(String term, int tColumns, int tRows, int tWidth, int tHeight,
            Map<PtyMode, Integer> ptyModes) throws IOException {
        RequestHandler.Result result = super.handlePtyReqParsed(term, tColumns, tRows, tWidth, tHeight, ptyModes);
        ptyRequested = true;
        return result;
    }
}
