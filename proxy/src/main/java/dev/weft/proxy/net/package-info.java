/**
 * What every layer of the proxy's connection handling shares and none owns: the Netty transport
 * (event loops, socket classes) and the connection events the listener layer fires.
 */
package dev.weft.proxy.net;
