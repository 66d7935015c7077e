package com.ecloud.compute.ssh.internal.gateway;

import java.io.IOException;
import java.util.Map;

import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.PtyMode;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.ChannelSession;

/**
 * A session channel that remembers whether the client asked for a pseudo-terminal (pty-req) and passes the
 * client's end of output ({@code eow@openssh.com}: its reader went away, as in {@code ssh id cmd | head}) to the
 * running process.
 */
final class GatewayChannelSession extends ChannelSession {

    /** Creates these channels for the "session" channel type. */
    static final ChannelFactory FACTORY = new ChannelFactory() {
        @Override
        public String getName() {
            return "session";
        }

        @Override
        public Channel createChannel(Session session) throws IOException {
            // null: MINA refuses the channel open
            return NoMoreSessions.requested(session) ? null : new GatewayChannelSession();
        }
    };

    static final String END_OF_WRITE = "eow@openssh.com";

    private volatile boolean ptyRequested;

    boolean ptyRequested() {
        return ptyRequested;
    }

    @Override
    protected RequestHandler.Result handleInternalRequest(String requestType, boolean wantReply, Buffer buffer)
            throws IOException {
        if (END_OF_WRITE.equals(requestType)) {
            if (commandInstance instanceof ExecCommand command) command.outputNotWanted();
            return RequestHandler.Result.Replied; // the request never wants a reply
        }
        return super.handleInternalRequest(requestType, wantReply, buffer);
    }

    @Override
    protected RequestHandler.Result handlePtyReqParsed(String term, int tColumns, int tRows, int tWidth, int tHeight,
            Map<PtyMode, Integer> ptyModes) throws IOException {
        RequestHandler.Result result = super.handlePtyReqParsed(term, tColumns, tRows, tWidth, tHeight, ptyModes);
        ptyRequested = true;
        return result;
    }
}
