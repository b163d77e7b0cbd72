/**
 * What a SAML message must be before the SAML library reads it. The library (node-saml, with
 * xml-crypto) verifies signatures and conditions; these checks refuse what it would accept but
 * two readers could see differently, or what this gateway does not trust:
 *
 * - comments anywhere (CVE-2017-11427 class: exclusive canonicalization drops comments, so
 *   `admin@example.com<!---->.evil.test` keeps its signature while a text reader that stops at
 *   the comment sees `admin@example.com`);
 * - a document type declaration (entity expansion, external entities);
 * - SHA-1 (or any algorithm outside the list below) in a signature or digest: xml-crypto 6 still
 *   accepts `rsa-sha1` and `sha1` (its signed-xml.js), which are broken for signatures;
 * - anything but one `Response` holding exactly one `Assertion` (no encrypted assertions: no
 *   decryption key is configured), and a message without any signature (`unsigned`, so the
 *   audit says what happened rather than a generic signature failure).
 *
 * The DOM comes from the same parser (@xmldom/xmldom, the version node-saml uses) with the same
 * strictness, so both see one document.
 */
import { createRequire } from 'node:module';

/**
 * The few DOM members read here. @xmldom/xmldom's own typings pull the browser's DOM library into
 * every file of the project (`/// <reference lib="dom" />`), which retypes `fetch` and friends: it
 * is loaded untyped, through these.
 */
export interface XNode {
  readonly nodeType: number;
  readonly firstChild: XNode | null;
  readonly nextSibling: XNode | null;
  readonly namespaceURI: string | null;
  readonly localName: string | null;
  readonly parentNode: XNode | null;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getElementsByTagNameNS(ns: string, name: string): ArrayLike<XNode>;
}
export interface XDocument extends XNode {
  readonly documentElement: XNode | null;
  readonly doctype: unknown;
}
type Element = XNode;
type Node = XNode;
type Document = XDocument;
const { DOMParser } = createRequire(import.meta.url)('@xmldom/xmldom') as {
  DOMParser: new (options: object) => { parseFromString(xml: string, type: string): XDocument | undefined };
};

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** Signature algorithms accepted (XML-DSig 1.1 §6.4, RFC 9231). No SHA-1, no HMAC. */
export const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
/** Digest algorithms accepted (XML Encryption §5.7.2; XML-DSig-more). */
export const DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

export type XmlRefusal = 'malformed' | 'doctype' | 'xml-comment' | 'weak-algorithm' | 'unsigned' | 'not-one-assertion' | 'encrypted-assertion';

/** Parses like node-saml does (errors are fatal); undefined when it is not one XML document. */
export function parseSamlXml(xml: string): Document | undefined {
  let failed = false;
  const onError = () => void (failed = true);
  const doc = new DOMParser({ locator: {}, errorHandler: { error: onError, fatalError: onError } }).parseFromString(xml, 'text/xml');
  return failed || !doc?.documentElement ? undefined : doc;
}

function* walk(node: Node): Generator<Node> {
  yield node;
  for (let c = node.firstChild; c; c = c.nextSibling) yield* walk(c);
}

const elements = (root: Node, ns: string, name: string): Element[] =>
  [...walk(root)].filter((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name);

/** Comments, doctypes and algorithms: what every signed SAML message (response or logout message) must pass. */
export function messageRefusal(xml: string, doc: Document): XmlRefusal | undefined {
  if (doc.doctype || /<!DOCTYPE/i.test(xml)) return 'doctype';
  for (const n of walk(doc)) if (n.nodeType === 8) return 'xml-comment';
  // The raw text too: a comment the parser dropped still changes what a second reader sees.
  if (xml.includes('<!--')) return 'xml-comment';
  for (const m of elements(doc, DSIG, 'SignatureMethod')) if (!SIGNATURE_ALGORITHMS.has(m.getAttribute('Algorithm') ?? '')) return 'weak-algorithm';
  for (const m of elements(doc, DSIG, 'DigestMethod')) if (!DIGEST_ALGORITHMS.has(m.getAttribute('Algorithm') ?? '')) return 'weak-algorithm';
  return undefined;
}

/** A login response: one `Response`, one plain `Assertion` under it, at least one signature. */
export function responseRefusal(xml: string, doc: Document): XmlRefusal | undefined {
  const general = messageRefusal(xml, doc);
  if (general) return general;
  const root = doc.documentElement!;
  if (root.namespaceURI !== PROTOCOL || root.localName !== 'Response') return 'malformed';
  // A second Response or Assertion anywhere (in an Extensions element, in the signature's Object)
  // is the shape of every XML signature wrapping variant: refused before any signature is read.
  if (elements(doc, PROTOCOL, 'Response').length !== 1) return 'not-one-assertion';
  if (elements(doc, ASSERTION, 'EncryptedAssertion').length > 0) return 'encrypted-assertion';
  if (elements(doc, ASSERTION, 'Assertion').length !== 1) return 'not-one-assertion';
  if (elements(doc, DSIG, 'Signature').length === 0) return 'unsigned';
  return undefined;
}

/** `Destination` of the message's root element, if it has one. */
export function destinationOf(doc: XDocument): string | undefined {
  return doc.documentElement?.getAttribute('Destination') || undefined;
}
