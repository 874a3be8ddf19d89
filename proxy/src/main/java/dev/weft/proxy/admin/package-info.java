/** The admin interface: readiness, config dump, clusters, stats, quit. */
package dev.weft.proxy.admin;
