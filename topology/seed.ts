/**
 * The mesh of the original blog post: the front proxy routes `/` to service A, which calls
 * B then C; B and C call nobody. All three run the demo app from `app/`. Written in the same
 * raw form a stack's `topology` config uses, so it goes through the same validation.
 */
export const SEED_TOPOLOGY = {
  front: {
    routes: [{ prefix: "/", service: "service-a" }],
  },
  services: [
    { name: "service-a", appPort: 8081, image: { build: { context: "app" } }, upstreams: ["service-b", "service-c"] },
    { name: "service-b", appPort: 8082, image: { build: { context: "app" } }, upstreams: [] },
    { name: "service-c", appPort: 8083, image: { build: { context: "app" } }, upstreams: [] },
  ],
} as const;
