// got, as the rest of the code imports it at run time. The build replaces the compiled file
// with a single-file bundle of got and its ~45 modules: resolving and loading them one by one
// was a measurable part of every API command's start-up (`npm run bench -- startup`).
// Types still come from the package itself.
export {default} from 'got'
