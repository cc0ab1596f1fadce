import * as net from "net";

/** Resolves true when nothing on this machine holds `host:port`, false when it is taken. */
export type PortProbe = (port: number, host: string) => Promise<boolean>;

/** Tries to listen on the port for a moment; EADDRINUSE (or EACCES) means someone else has it. */
export const tcpPortProbe: PortProbe = (port, host) =>
    new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
    });
