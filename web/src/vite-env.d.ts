// Vite's query-suffixed imports, declared here rather than pulling in vite/client
// (whose globals would leak into the rest of the tsconfig's programme).
declare module '*?worker&url' {
  const url: string
  export default url
}
