// Lint what a reviewer would flag: unused code, floating promises, stray `any`, import cycles.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "quine/", "generations/", "report/", "tmp/", "**/*.as.ts", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // An import cycle is a load-order bug waiting for its first value import. This rule sees value imports
    // only; scripts/check-imports.ts (also run by `npm run lint`) sees type-only ones and the floors.
    plugins: { "import-x": importX },
    settings: {
      ...importX.flatConfigs.typescript.settings, // parse imported .ts files too, or a cycle goes unseen
      "import-x/resolver-next": [createTypeScriptImportResolver()],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
);
