// oidc-provider ships no type declarations; the sandbox uses a small, well-documented part
// of it (configuration object, interaction helpers, models) and treats the rest as untyped.
declare module 'oidc-provider' {
  const Provider: any
  export default Provider
  export const errors: any
}
