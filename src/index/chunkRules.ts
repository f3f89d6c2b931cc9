/**
 * Per-language knowledge the chunker needs from a tree-sitter tree: which nodes are functions,
 * containers (classes, traits, impls: chunked whole when small, as a header plus members when
 * large) and type declarations, what they are called, and which nodes only wrap a definition
 * (decorators, `export`) so that the chunk's range takes them in. Anything not listed is descended
 * into, so definitions inside namespaces, modules and `if` blocks are found; function bodies are
 * not, so nested functions stay part of their parent.
 */
import type { Node } from 'web-tree-sitter';
import type { SyntaxLanguage } from '../shared/languages/languages';

export type DefinitionKind = 'function' | 'method' | 'class' | 'type';

export interface Definition {
  kind: DefinitionKind;
  name: string;
  /** The node whose range the chunk covers (the wrapper, when there is one). */
  node: Node;
  /** The definition itself (inside the wrapper): where members and docstrings are looked for. */
  inner: Node;
  /** Set for methods whose class is known from the definition itself (Go receivers). */
  container?: string;
}

export interface LanguageRules {
  describe(node: Node): Definition | undefined;
  /** Python-style docstring: the first statement of the body, when it is a string. */
  docstring?(inner: Node): string | undefined;
}

function fieldText(node: Node, field: string): string | undefined {
  return node.childForFieldName(field)?.text;
}

function named(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

function def(kind: DefinitionKind, name: string | undefined, node: Node, extra: Partial<Definition> = {}): Definition | undefined {
  return name === undefined ? undefined : { kind, name, node, inner: node, ...extra };
}

/** A wrapper's definition keeps its own kind and name but covers the wrapper's range. */
function wrapped(wrapper: Node, inner: Node | null | undefined, rules: LanguageRules): Definition | undefined {
  if (!inner) return undefined;
  const found = rules.describe(inner);
  return found ? { ...found, node: wrapper } : undefined;
}

const python: LanguageRules = {
  describe(node) {
    switch (node.type) {
      case 'function_definition':
        return def('function', fieldText(node, 'name'), node);
      case 'class_definition':
        return def('class', fieldText(node, 'name'), node);
      case 'decorated_definition':
        return wrapped(node, node.childForFieldName('definition'), python);
      default:
        return undefined;
    }
  },
  docstring(inner) {
    const first = inner.childForFieldName('body')?.firstNamedChild;
    if (first?.type !== 'expression_statement') return undefined;
    const string = first.firstNamedChild;
    if (string?.type !== 'string') return undefined;
    return string.text.replace(/^[rRuUbBfF]*("""|'''|"|')/, '').replace(/("""|'''|"|')$/, '');
  },
};

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);

function ecmascript(): LanguageRules {
  const rules: LanguageRules = {
    describe(node) {
      switch (node.type) {
        case 'function_declaration':
        case 'generator_function_declaration':
          return def('function', fieldText(node, 'name'), node);
        case 'class_declaration':
        case 'abstract_class_declaration':
        case 'class':
          return def('class', fieldText(node, 'name'), node);
        case 'method_definition':
        case 'abstract_method_signature':
          return def('method', fieldText(node, 'name'), node);
        case 'public_field_definition':
        case 'field_definition': {
          const value = node.childForFieldName('value');
          if (!value || !FUNCTION_VALUES.has(value.type)) return undefined;
          return def('method', fieldText(node, 'name') ?? fieldText(node, 'property'), node);
        }
        case 'interface_declaration':
        case 'type_alias_declaration':
        case 'enum_declaration':
          return def('type', fieldText(node, 'name'), node);
        case 'lexical_declaration':
        case 'variable_declaration': {
          // `const parse = (s) => ...` is a function in all but syntax.
          const declarators = named(node).filter((c) => c.type === 'variable_declarator');
          if (declarators.length !== 1) return undefined;
          const declarator = declarators[0] as Node;
          const value = declarator.childForFieldName('value');
          if (!value) return undefined;
          if (FUNCTION_VALUES.has(value.type)) return def('function', fieldText(declarator, 'name'), node);
          if (value.type === 'class') return { kind: 'class', name: fieldText(declarator, 'name') ?? '', node, inner: value };
          return undefined;
        }
        case 'export_statement': {
          const declaration = node.childForFieldName('declaration');
          if (declaration) return wrapped(node, declaration, rules);
          // `export default function () {}` / `export default class {}`
          const value = named(node).find((c) => FUNCTION_VALUES.has(c.type) || c.type === 'class' || c.type === 'function_declaration' || c.type === 'class_declaration');
          if (!value) return undefined;
          const inner = rules.describe(value);
          if (inner) return { ...inner, node };
          return { kind: value.type === 'class' ? 'class' : 'function', name: 'default', node, inner: value };
        }
        default:
          return undefined;
      }
    },
  };
  return rules;
}

function receiverType(node: Node): string | undefined {
  const receiver = node.childForFieldName('receiver');
  const parameter = receiver ? named(receiver)[0] : undefined;
  const type = parameter?.childForFieldName('type')?.text;
  return type?.replace(/^\*/, '').replace(/\[.*$/, '');
}

const go: LanguageRules = {
  describe(node) {
    switch (node.type) {
      case 'function_declaration':
        return def('function', fieldText(node, 'name'), node);
      case 'method_declaration': {
        const container = receiverType(node);
        return def('method', fieldText(node, 'name'), node, container ? { container } : {});
      }
      case 'type_declaration': {
        const names = named(node).filter((c) => c.type === 'type_spec' || c.type === 'type_alias').map((c) => fieldText(c, 'name')).filter((n): n is string => !!n);
        return names.length > 0 ? def('type', names.join(', '), node) : undefined;
      }
      default:
        return undefined;
    }
  },
};

const java: LanguageRules = {
  describe(node) {
    switch (node.type) {
      case 'class_declaration':
      case 'interface_declaration':
      case 'enum_declaration':
      case 'record_declaration':
      case 'annotation_type_declaration':
        return def('class', fieldText(node, 'name'), node);
      case 'method_declaration':
      case 'constructor_declaration':
      case 'compact_constructor_declaration':
        return def('method', fieldText(node, 'name'), node);
      default:
        return undefined;
    }
  },
};

const ruby: LanguageRules = {
  describe(node) {
    switch (node.type) {
      case 'class':
      case 'module':
        return def('class', fieldText(node, 'name'), node);
      case 'method':
        return def('function', fieldText(node, 'name'), node);
      case 'singleton_method':
        return def('function', `self.${fieldText(node, 'name') ?? ''}`, node);
      default:
        return undefined;
    }
  },
};

const php: LanguageRules = {
  describe(node) {
    switch (node.type) {
      case 'function_definition':
        return def('function', fieldText(node, 'name'), node);
      case 'method_declaration':
        return def('method', fieldText(node, 'name'), node);
      case 'class_declaration':
      case 'interface_declaration':
      case 'trait_declaration':
      case 'enum_declaration':
        return def('class', fieldText(node, 'name'), node);
      default:
        return undefined;
    }
  },
};

const rust: LanguageRules = {
  describe(node) {
    switch (node.type) {
      case 'function_item':
      case 'function_signature_item':
        return def('function', fieldText(node, 'name'), node);
      case 'impl_item':
        // `impl Trait for Type` and `impl Type` are both named by the type their methods belong to.
        return def('class', fieldText(node, 'type')?.replace(/<.*$/, ''), node);
      case 'trait_item':
        return def('class', fieldText(node, 'name'), node);
      case 'struct_item':
      case 'enum_item':
      case 'union_item':
      case 'type_item':
        return def('type', fieldText(node, 'name'), node);
      default:
        return undefined;
    }
  },
};

const RULES: Record<SyntaxLanguage, LanguageRules> = {
  python,
  javascript: ecmascript(),
  javascriptreact: ecmascript(),
  typescript: ecmascript(),
  typescriptreact: ecmascript(),
  go,
  java,
  ruby,
  php,
  rust,
};

export function rulesFor(language: SyntaxLanguage): LanguageRules {
  return RULES[language];
}

/** Comment node types across the grammars (doc comments are comments just above a definition). */
export const COMMENT_TYPES = new Set(['comment', 'line_comment', 'block_comment']);
/** Nodes that may sit between a doc comment and its definition (Rust attributes). */
export const BETWEEN_DOC_AND_DEFINITION = new Set(['attribute_item', 'decorator', 'annotation', 'marker_annotation']);
