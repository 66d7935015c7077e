/*
 * fast-http: the benchmarks' backend inside a container. One thread, epoll, keep-alive, pipelining; every
 * request (GET, no body) is answered with the same small page. BusyBox httpd forks per request and tops out
 * near 300 requests/s here, so it would measure itself instead of the proxies in front of it.
 *
 *   fast-http PORT      (built static: gcc -O2 -static -o fast-http fast-http.c)
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUFFER 16384

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello, world\n";

struct connection {
    int fd;
    size_t used;
    char data[BUFFER];
};

static void set_nonblocking(int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

/* Answers every complete request head in the buffer; returns -1 when the connection must close. */
static int serve(struct connection *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->data + c->used, BUFFER - c->used);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            return -1;
        }
        c->used += (size_t)n;
        size_t start = 0;
        char *end;
        int answers = 0;
        while ((end = memmem(c->data + start, c->used - start, "\r\n\r\n", 4)) != NULL) {
            start = (size_t)(end - c->data) + 4;
            answers++;
        }
        if (answers > 0) {
            char out[sizeof(RESPONSE) * 32];
            size_t len = 0;
            for (int i = 0; i < answers; i++) {
                if (len + sizeof(RESPONSE) - 1 > sizeof(out)) {
                    if (write(c->fd, out, len) != (ssize_t)len) return -1;
                    len = 0;
                }
                memcpy(out + len, RESPONSE, sizeof(RESPONSE) - 1);
                len += sizeof(RESPONSE) - 1;
            }
            if (write(c->fd, out, len) != (ssize_t)len) return -1;
            memmove(c->data, c->data + start, c->used - start);
            c->used -= start;
        }
        if (c->used == BUFFER) return -1; /* a request head larger than the buffer */
    }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
    if (bind(listener, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(listener, 1024) < 0) {
        perror("fast-http: listen");
        return 1;
    }
    set_nonblocking(listener);
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int ready = epoll_wait(epoll, events, MAX_EVENTS, -1);
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept(listener, NULL, NULL)) >= 0) {
                    set_nonblocking(fd);
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct connection *fresh = malloc(sizeof(struct connection));
                    fresh->fd = fd;
                    fresh->used = 0;
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = fresh};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e);
                }
            } else if (serve(c) < 0) {
                close(c->fd);
                free(c);
            }
        }
    }
}
