import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';

// Browser mode's access token arrives once in the URL and the server answers with a cookie: take it
// out of the address bar and the history at once, so it isn't shared with a screenshot or a tab.
const loaded = new URL(window.location.href);
if (loaded.searchParams.has('token')) {
  loaded.searchParams.delete('token');
  history.replaceState(history.state, '', loaded.pathname + loaded.search + loaded.hash);
}

const target = document.getElementById('app');
if (!target) throw new Error('the page has no #app element');

export default mount(App, { target });
