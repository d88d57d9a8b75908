// @oclif/core, as the rest of the code imports it at run time. The build replaces the compiled
// file with a single-file bundle of @oclif/core and the ~150 CommonJS modules it loads one by
// one (measured with `npm run bench -- startup`: ~60 ms of every command's start-up went into
// resolving and loading them; the bundle loads in ~35 ms and keeps ~8 MB less resident).
// Types still come from the package itself. oclif's plugins (autocomplete, commands) keep
// their own copy from node_modules: oclif is built for plugins on another copy of the core.
export {Args, Command, Config, Flags, Plugin, flush, run} from '@oclif/core'
export type {Interfaces} from '@oclif/core'
