/** Listening sockets that follow LDS, and the Netty transport (epoll or NIO). */
package dev.weft.proxy.listener;
