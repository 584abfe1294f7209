/**
 * Turns resources, lists and errors into response bodies in the representation asked for.
 * The only place that knows how a Twilio document is laid out.
 */
import type { PageResult } from '../../domain/paging.js';
import { csvTable } from './csv.js';
import { CONTENT_TYPE, type Format, suffixOf } from './format.js';
import { pageLinks, type Filter, type ListRequest } from './list-page.js';
import { jsonOf, xmlOf, type ResourceShape } from './resource-shape.js';
import { attributes, element, twilioResponse } from './xml-writer.js';

export interface Rendered {
  contentType: string;
  body: string;
}

/**
 * Rendered instance documents, per shape and format, keyed by the record itself. Records are
 * never changed in place (every change makes a new one), and the store hands out the same
 * object for an unchanged participant, so a busy participant is rendered once per change.
 */
const rendered = new WeakMap<object, Map<object, Partial<Record<Format, string>>>>();

export function renderInstance<T>(shape: ResourceShape<T>, item: T, format: Format): Rendered {
  const contentType = CONTENT_TYPE[format];
  const memo = typeof item === 'object' && item !== null ? rendered.get(item) : undefined;
  const known = memo?.get(shape)?.[format];
  if (known !== undefined) return { contentType, body: known };
  let body: string;
  if (format === 'json') body = JSON.stringify(jsonOf(shape, item, '.json'));
  else if (format === 'csv') body = csvTable(keysOf(shape), [jsonOf(shape, item, '.csv')]);
  else body = twilioResponse(element(shape.element, xmlOf(shape, item, false)));
  if (typeof item === 'object' && item !== null) {
    const byShape = memo ?? new Map<object, Partial<Record<Format, string>>>();
    byShape.set(shape, { ...byShape.get(shape), [format]: body });
    if (!memo) rendered.set(item, byShape);
  }
  return { contentType, body };
}

export function renderList<T>(
  shape: ResourceShape<T>,
  path: string,
  filters: readonly Filter[],
  request: ListRequest,
  result: PageResult<T>,
  format: Format,
): Rendered {
  const contentType = CONTENT_TYPE[format];
  const suffix = suffixOf(format);
  if (format === 'csv') {
    return { contentType, body: csvTable(keysOf(shape), result.items.map((item) => jsonOf(shape, item, suffix))) };
  }
  const links = pageLinks(path, filters, request, result, format);
  if (format === 'json') {
    const body = {
      [shape.listKey]: result.items.map((item) => jsonOf(shape, item, suffix)),
      first_page_uri: links.first,
      next_page_uri: links.next,
      previous_page_uri: links.previous,
      uri: links.uri,
      page: links.page,
      page_size: links.pageSize,
      start: links.start,
      end: links.end,
      // Legacy keys (removed by Twilio in 2015, still read by old clients): real values.
      total: links.total,
      num_pages: links.numPages,
      last_page_uri: links.last,
    };
    return { contentType, body: JSON.stringify(body) };
  }
  // The seed's attribute order: page numpages pagesize total start end uri firstpageuri
  // previouspageuri nextpageuri lastpageuri.
  const open =
    shape.listElement +
    attributes([
      ['page', links.page],
      ['numpages', links.numPages],
      ['pagesize', links.pageSize],
      ['total', links.total],
      ['start', links.start],
      ['end', links.end],
      ['uri', links.uri],
      ['firstpageuri', links.first],
      ['previouspageuri', links.previous ?? ''],
      ['nextpageuri', links.next ?? ''],
      ['lastpageuri', links.last],
    ]);
  if (result.items.length === 0) return { contentType, body: twilioResponse(`<${open}/>`) };
  const items = result.items.map((item) => element(shape.element, xmlOf(shape, item, true)));
  return { contentType, body: twilioResponse(`<${open}>\n${items.join('\n')}\n</${shape.listElement}>`) };
}

export interface RestException {
  status: number;
  code: number;
  message: string;
}

export function moreInfo(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

/** Twilio's RestException: JSON `{code, message, more_info, status}`, or the XML document. */
export function renderError(error: RestException, format: Format): Rendered {
  if (format === 'json' || format === 'csv') {
    const body = { code: error.code, message: error.message, more_info: moreInfo(error.code), status: error.status };
    return { contentType: CONTENT_TYPE.json, body: JSON.stringify(body) };
  }
  const inner = element('RestException', {
    Code: error.code,
    Message: error.message,
    MoreInfo: moreInfo(error.code),
    Status: error.status,
  });
  return { contentType: CONTENT_TYPE.xml, body: twilioResponse(inner) };
}

/** The CSV columns of a shape: its JSON keys but the nested maps. */
function keysOf<T>(shape: ResourceShape<T>): string[] {
  return shape.fields.map(([key]) => key).filter((key) => !shape.nested?.includes(key));
}
