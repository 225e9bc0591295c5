/**
 * Closing a server without leaving clients hanging and without waiting on them forever:
 * stop accepting, ask open connections to finish, and cut whatever is left after a grace period.
 */
import type { Server, Socket } from 'node:net';

/** The server's open connections, kept up to date. */
export function trackConnections(server: Server): Set<Socket> {
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  return connections;
}

/**
 * Stops accepting; `endOpen` asks the open connections to finish; those still open after
 * `graceMs` are destroyed. Resolves when the server has closed.
 */
export function closeGracefully(
  server: Server,
  connections: Set<Socket>,
  graceMs: number,
  endOpen: () => void,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      for (const socket of connections) socket.destroy();
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    endOpen();
  });
}

/** For a stream server (Unix socket, BINRPC): ask every connection still open to finish. */
export function endConnections(connections: Set<Socket>): void {
  for (const socket of connections) if (!socket.readableEnded) socket.end();
}
