// Lint: ESLint's recommended rules and typescript-eslint's, plus two rules that need the types (a promise nobody
// awaits loses its error; a switch over a union must handle every member). Library code never prints: `no-console`
// is an error outside the CLI, tests, benchmarks and test helpers. The layer rule is dependency-cruiser's
// (.dependency-cruiser.cjs).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/results/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        performance: "readonly",
        WebAssembly: "readonly",
      },
    },
    rules: {
      "no-console": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["src/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ["src/cli/**", "bench/**", "bin/**", "src/**/*.test.ts", "src/testing/**", "src/**/testing/**"],
    rules: { "no-console": "off" },
  },
);
